package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.util.Objects;

/**
 * A dataset held in two flat arrays: {@code features} is {@code size * exampleShape.size()} floats
 * in example order, {@code labels} one class per example. The arrays are not copied (a 60000-image
 * set is 188 MB), so the caller must not change them afterwards.
 */
public record InMemoryDataset(float[] features, int[] labels, Shape exampleShape, int numClasses) implements Dataset {
    public InMemoryDataset {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(exampleShape, "exampleShape");
        if (numClasses <= 0) throw new IllegalArgumentException("numClasses must be positive, got " + numClasses);
        // A double, because the product may not fit a long; every length an array can have is exact in one.
        double expected = (double) exampleShape.size() * labels.length;
        if (features.length != expected) {
            throw new IllegalArgumentException("features has " + features.length + " floats but " + labels.length
                    + " examples of shape " + exampleShape + " need " + (expected < 0x1p53 ? Long.toString((long) expected) : Double.toString(expected)));
        }
        checkLabels(labels, numClasses, "example");
    }

    /** Every label in [0, numClasses); {@code what} names an example in the message ("example", "image"). */
    static void checkLabels(int[] labels, int numClasses, String what) {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + labels[i] + " of " + what + " " + i + " outside [0, " + numClasses + ")");
            }
        }
    }

    @Override public int size() { return labels.length; }

    @Override public void features(int index, float[] dst, int offset) {
        int n = exampleSize();
        System.arraycopy(features, Math.multiplyExact(Objects.checkIndex(index, labels.length), n), dst, offset, n);
    }

    @Override public int label(int index) { return labels[index]; }

    @Override public String toString() {
        return "InMemoryDataset[size=" + labels.length + ", exampleShape=" + exampleShape + ", numClasses=" + numClasses + "]";
    }
}
