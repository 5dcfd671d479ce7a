package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.util.Objects;

/**
 * Class-labelled images kept as the IDX files store them, one unsigned byte per pixel, and scaled
 * to [0, 1] floats (divided by 255) as each example is read: what {@link FashionMnist} and
 * {@link Mnist} load. A quarter of the memory of float features, and nothing to convert before
 * the first batch: the float copy of Fashion-MNIST's training images alone is 188 MB, and
 * allocating and filling it took longer here than reading the files. {@link #toInMemory()} gives
 * that float copy to code that wants the arrays. The arrays are not copied, so the caller must
 * not change them afterwards.
 */
public record ImageDataset(byte[] pixels, int[] labels, Shape exampleShape, int numClasses) implements Dataset {
    private static final float SCALE = 1f / 255f;

    public ImageDataset {
        Objects.requireNonNull(pixels, "pixels");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(exampleShape, "exampleShape");
        if (numClasses <= 0) throw new IllegalArgumentException("numClasses must be positive, got " + numClasses);
        double expected = (double) exampleShape.size() * labels.length;
        if (pixels.length != expected) {
            throw new IllegalArgumentException("pixels has " + pixels.length + " bytes but " + labels.length
                    + " images of shape " + exampleShape + " need " + (expected < 0x1p53 ? Long.toString((long) expected) : Double.toString(expected)));
        }
        InMemoryDataset.checkLabels(labels, numClasses, "image");
    }

    @Override public int size() { return labels.length; }

    @Override public void features(int index, float[] dst, int offset) {
        int n = exampleSize();
        int from = Math.multiplyExact(Objects.checkIndex(index, labels.length), n);
        Objects.checkFromIndexSize(offset, n, dst.length);
        for (int j = 0; j < n; j++) dst[offset + j] = (pixels[from + j] & 0xff) * SCALE;
    }

    @Override public int label(int index) { return labels[index]; }

    /** The same examples as floats in one array, the form {@link InMemoryDataset} holds. */
    public InMemoryDataset toInMemory() {
        float[] f = new float[pixels.length];
        for (int i = 0; i < f.length; i++) f[i] = (pixels[i] & 0xff) * SCALE;
        return new InMemoryDataset(f, labels, exampleShape, numClasses);
    }

    @Override public String toString() {
        return "ImageDataset[size=" + labels.length + ", exampleShape=" + exampleShape + ", numClasses=" + numClasses + "]";
    }
}
