package dev.kiln.api.data;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.Objects;

/**
 * A dataset of float features and float targets held in two flat arrays, for regression and
 * multi-label tasks, as PyTorch's {@code TensorDataset(x, y)}: {@code features} is
 * {@code size * exampleShape.size()} floats and {@code targets} {@code size * targetShape.size()}
 * floats, both in example order. The arrays are not copied, so the caller must not change them
 * afterwards. {@link #of(float[][], float[][])} builds one from rows; {@link InMemoryDataset} is
 * the same for one class label per example.
 */
public record ArrayDataset(float[] features, Shape exampleShape, float[] targets, Shape targetShape) implements Dataset {
    public ArrayDataset {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(exampleShape, "exampleShape");
        Objects.requireNonNull(targets, "targets");
        Objects.requireNonNull(targetShape, "targetShape");
        if (targetShape.size() == 0) throw new IllegalArgumentException("targetShape " + targetShape + " holds no values");
        if (exampleShape.size() == 0) throw new IllegalArgumentException("exampleShape " + exampleShape + " holds no values");
        if (targets.length % targetShape.size() != 0) {
            throw new IllegalArgumentException("targets has " + targets.length + " floats, not a whole number of targets of shape " + targetShape);
        }
        long n = targets.length / targetShape.size();
        // A double, because the product may not fit a long; every length an array can have is exact in one.
        double expected = (double) exampleShape.size() * n;
        if (features.length != expected) {
            throw new IllegalArgumentException("features has " + features.length + " floats but the " + n + " targets of shape " + targetShape
                    + " need " + n + " examples of shape " + exampleShape + ", " + (expected < 0x1p53 ? Long.toString((long) expected) : Double.toString(expected)) + " floats");
        }
    }

    /**
     * One example per row of {@code x} (shape {@code [x[0].length]}) and one target per row of
     * {@code y} (shape {@code [y[0].length]}), copied into flat arrays; every row must have its
     * first row's length.
     */
    public static ArrayDataset of(float[][] x, float[][] y) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        if (x.length != y.length) throw new IllegalArgumentException("x has " + x.length + " rows but y has " + y.length);
        if (x.length == 0) throw new IllegalArgumentException("x and y have no rows, so the shapes of an example and a target are unknown");
        return new ArrayDataset(flatten("x", x), Shape.of(x[0].length), flatten("y", y), Shape.of(y[0].length));
    }

    private static float[] flatten(String name, float[][] rows) {
        int width = Objects.requireNonNull(rows[0], name + "[0]").length;
        float[] flat = new float[Math.multiplyExact(rows.length, width)];
        for (int i = 0; i < rows.length; i++) {
            float[] r = Objects.requireNonNull(rows[i], name + "[" + i + "]");
            if (r.length != width) throw new IllegalArgumentException(name + "[" + i + "] has " + r.length + " values but " + name + "[0] has " + width);
            System.arraycopy(r, 0, flat, i * width, width);
        }
        return flat;
    }

    @Override public int size() { return (int) (targets.length / targetShape.size()); }

    @Override public DType targetType() { return DType.F32; }

    @Override public void features(int index, float[] dst, int offset) {
        int n = exampleSize();
        System.arraycopy(features, Math.multiplyExact(Objects.checkIndex(index, size()), n), dst, offset, n);
    }

    @Override public void target(int index, float[] dst, int offset) {
        int n = targetSize();
        System.arraycopy(targets, Math.multiplyExact(Objects.checkIndex(index, size()), n), dst, offset, n);
    }

    @Override public String toString() {
        return "ArrayDataset[size=" + size() + ", exampleShape=" + exampleShape + ", targetShape=" + targetShape + "]";
    }
}
