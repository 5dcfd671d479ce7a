package dev.kiln.api.data;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;

/**
 * Packs examples of one dataset into batch arrays: what {@link DataLoader} and {@link Prefetcher}
 * share. The target type is checked once here, so a dataset with targets the trainer cannot feed
 * fails before the first batch, naming itself.
 */
final class BatchFiller {
    private final Dataset dataset;
    private final int exampleSize, targetSize;
    private final int[] exampleDims, targetDims;
    private final boolean floatTargets;

    BatchFiller(Dataset dataset) {
        this.dataset = dataset;
        DType t = dataset.targetType();
        if (t != DType.I32 && t != DType.F32) {
            throw new IllegalArgumentException(dataset + ": targets of type " + t + " are not supported; give I32 (class labels) or F32 targets");
        }
        this.floatTargets = t == DType.F32;
        this.exampleSize = dataset.exampleSize();
        this.targetSize = dataset.targetSize();
        this.exampleDims = dataset.exampleShape().dims();
        this.targetDims = dataset.targetShape().dims();
    }

    /** Empty arrays for {@code capacity} examples; the shapes are filled in by {@link #fill}. */
    Batch allocate(int capacity) {
        float[] f = new float[Math.multiplyExact(capacity, exampleSize)];
        int cap = Math.multiplyExact(capacity, targetSize);
        return floatTargets ? new Batch(f, null, new float[cap], 0, Shape.of(0), Shape.of(0))
                : new Batch(f, new int[cap], null, 0, Shape.of(0), Shape.of(0));
    }

    /** Copies the examples {@code order[from .. from + n)} into {@code buf}'s arrays and returns them as a batch of {@code n}. */
    Batch fill(Batch buf, int[] order, int from, int n) {
        for (int i = 0; i < n; i++) {
            int idx = order[from + i];
            dataset.features(idx, buf.features(), i * exampleSize);
            if (floatTargets) dataset.target(idx, buf.targets(), i * targetSize);
            else if (targetDims.length == 0) buf.labels()[i] = dataset.label(idx); // the classification path, as it always was
            else dataset.target(idx, buf.labels(), i * targetSize);
        }
        return new Batch(buf.features(), buf.labels(), buf.targets(), n, withBatch(n, exampleDims), withBatch(n, targetDims));
    }

    private static Shape withBatch(int n, int[] dims) {
        int[] d = new int[dims.length + 1];
        d[0] = n;
        System.arraycopy(dims, 0, d, 1, dims.length);
        return Shape.of(d);
    }
}
