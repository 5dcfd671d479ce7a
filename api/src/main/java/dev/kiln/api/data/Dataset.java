package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.util.SplittableRandom;

/**
 * A finite, random-access collection of labelled examples for classification. Examples are
 * copied out as floats so a {@link DataLoader} can pack them straight into a batch buffer.
 */
public interface Dataset {
    /** Number of examples. */
    int size();

    /** Shape of one example without the batch dimension, e.g. {@code [28, 28]}. */
    Shape exampleShape();

    /** Number of classes; every label lies in {@code [0, numClasses)}. */
    int numClasses();

    /** Copies example {@code index} (already scaled, e.g. pixels to [0,1]) into {@code dst} at {@code offset}. */
    void features(int index, float[] dst, int offset);

    /** Class label of example {@code index}. */
    int label(int index);

    /** Number of floats in one example. */
    default int exampleSize() { return Math.toIntExact(exampleShape().size()); }

    /** A view of the examples at {@code indices}, in that order; no data is copied. */
    default Dataset subset(int[] indices) { return new IndexedDataset(this, indices.clone()); }

    /**
     * Shuffles the indices with {@code seed} and cuts them in two: the first part holds
     * {@code round(fraction * size())} examples (e.g. 0.9 for train/validation). Deterministic for a seed.
     */
    default Partition split(double fraction, long seed) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("split fraction must be in [0, 1], got " + fraction);
        }
        int[] order = DataLoader.permutation(size(), new SplittableRandom(seed));
        int cut = (int) Math.round(fraction * size());
        return new Partition(new IndexedDataset(this, java.util.Arrays.copyOfRange(order, 0, cut)),
                new IndexedDataset(this, java.util.Arrays.copyOfRange(order, cut, order.length)));
    }

    /** The two disjoint parts of {@link #split}. */
    record Partition(Dataset first, Dataset second) {}
}
