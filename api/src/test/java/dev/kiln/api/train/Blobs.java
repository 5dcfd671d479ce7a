package dev.kiln.api.train;

import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Dropout;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.core.Shape;
import java.util.SplittableRandom;

/** A small synthetic classification problem (Gaussian blobs) and model, so training tests take seconds on the Java plugin. */
final class Blobs {
    static final int FEATURES = 10, CLASSES = 4;

    private Blobs() {}

    static InMemoryDataset dataset(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] centres = new float[CLASSES][FEATURES];
        SplittableRandom c = new SplittableRandom(99);
        for (float[] ce : centres) for (int j = 0; j < FEATURES; j++) ce[j] = (float) c.nextDouble(-1.5, 1.5);
        float[] x = new float[n * FEATURES];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % CLASSES;
            for (int j = 0; j < FEATURES; j++) x[i * FEATURES + j] = centres[y[i]][j] + (float) (r.nextGaussian() * 0.9);
        }
        return new InMemoryDataset(x, y, Shape.of(FEATURES), CLASSES);
    }

    static Sequential model() { return Sequential.of(new Linear(FEATURES, 16), new ReLU(), new Dropout(0.2), new Linear(16, CLASSES)); }
}
