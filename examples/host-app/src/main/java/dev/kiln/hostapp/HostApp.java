package dev.kiln.hostapp;

import dev.kiln.api.Kiln;
import dev.kiln.api.ProviderInfo;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.loss.Loss;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.Callback;
import dev.kiln.api.train.Evaluation;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.Shape;
import java.lang.management.ManagementFactory;
import java.util.Random;

/**
 * An application embedding Kiln: trains the README's MLP (784-128-ReLU-10, Adam, batch 32) for
 * 300 steps on synthetic data and reports the backend and how long the JVM took to get to its
 * first training step. Runs the same on the class path and the module path, with no JVM flags.
 * Exits non-zero if it did not learn, so CI notices a backend that runs but computes nonsense.
 */
public final class HostApp {
    private static final int CLASSES = 10, FEATURES = 784, BATCH = 32, EXAMPLES = 4800, EPOCHS = 2;

    private HostApp() {}

    public static void main(String[] args) {
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        Module self = HostApp.class.getModule();
        System.out.println("host-app: " + (self.isNamed() ? "module path (module " + self.getName() + ")" : "class path")
                + ", Java " + Runtime.version());
        for (ProviderInfo p : Kiln.providers()) System.out.println("  " + p);

        InMemoryDataset train = blobs(EXAMPLES, 1), test = blobs(1000, 2);
        long[] firstStep = {0};
        try (Kiln kiln = Kiln.open()) {
            System.out.println("backend: " + kiln.backend());
            Sequential model = Sequential.of(new Linear(FEATURES, 128), new ReLU(), new Linear(128, CLASSES));
            try (Trainer trainer = Trainer.builder(kiln, model).loss(Loss.softmaxCrossEntropy()).optimizer(new Adam(1e-3))
                    .batchSize(BATCH).callback(new Callback() {
                        @Override public void onBatchEnd(int step, int steps, double loss, double acc, long samples, double seconds) {
                            if (firstStep[0] == 0) firstStep[0] = System.currentTimeMillis();
                        }
                    }).build()) {
                trainer.fit(train, EPOCHS);
                Evaluation e = trainer.evaluate(test);
                long end = System.currentTimeMillis();
                System.out.printf("JVM start to first training step: %d ms%n", firstStep[0] - jvmStart);
                System.out.printf("%d steps, JVM start to end of training: %d ms; test accuracy %.3f, loss %.4f%n",
                        trainer.steps(), end - jvmStart, e.accuracy(), e.loss());
                if (!(e.accuracy() > 0.9)) {
                    System.err.println("host-app: the model did not learn (accuracy " + e.accuracy() + ")");
                    System.exit(1);
                }
            }
        }
    }

    /**
     * Ten Gaussian blobs around fixed random centres: learnable in a few hundred steps, and
     * generated, so the application needs no download. {@code seed} picks the sample, not the centres.
     */
    static InMemoryDataset blobs(int n, long seed) {
        Random centres = new Random(42), noise = new Random(seed);
        float[][] mean = new float[CLASSES][FEATURES];
        for (float[] m : mean) for (int j = 0; j < FEATURES; j++) m[j] = (float) centres.nextGaussian();
        float[] x = new float[n * FEATURES];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = noise.nextInt(CLASSES);
            for (int j = 0; j < FEATURES; j++) x[i * FEATURES + j] = mean[y[i]][j] + (float) (3 * noise.nextGaussian());
        }
        return new InMemoryDataset(x, y, Shape.of(FEATURES), CLASSES);
    }
}
