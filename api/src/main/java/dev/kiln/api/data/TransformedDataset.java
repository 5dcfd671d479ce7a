package dev.kiln.api.data;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * {@link Dataset#transform}: features transformed as they are read (on a {@link DataLoader}'s
 * background thread when it prefetches), targets unchanged. The random draws for example i come
 * from a generator seeded by the seed, i and how many times i has been read before, so each epoch
 * augments differently, a run is reproducible whatever the order and threads, and the data is
 * never copied.
 */
final class TransformedDataset implements Dataset {
    private final Dataset base;
    private final Transform transform;
    private final long seed;
    private final Shape shape;
    private final AtomicIntegerArray reads;

    TransformedDataset(Dataset base, Transform transform, long seed) {
        this.base = base;
        this.transform = transform;
        this.seed = seed;
        this.shape = transform.outputShape(base.exampleShape());
        this.reads = new AtomicIntegerArray(base.size());
    }

    @Override public int size() { return base.size(); }

    @Override public Shape exampleShape() { return shape; }

    @Override public int numClasses() { return base.numClasses(); }

    @Override public void features(int index, float[] dst, int offset) {
        float[] raw = new float[base.exampleSize()];
        base.features(index, raw, 0);
        long draw = reads.getAndIncrement(index);
        // Three 64-bit words mixed by SplittableRandom's own seeding: seed, example, read count.
        SplittableRandom random = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (index + 1)) ^ (0xC2B2AE3D27D4EB4FL * (draw + 1)));
        transform.apply(raw, base.exampleShape(), dst, offset, random);
    }

    @Override public int label(int index) { return base.label(index); }

    @Override public DType targetType() { return base.targetType(); }

    @Override public Shape targetShape() { return base.targetShape(); }

    @Override public void target(int index, int[] dst, int offset) { base.target(index, dst, offset); }

    @Override public void target(int index, float[] dst, int offset) { base.target(index, dst, offset); }

    @Override public String toString() { return base + " transformed by " + transform; }
}
