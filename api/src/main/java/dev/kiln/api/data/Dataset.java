package dev.kiln.api.data;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.SplittableRandom;

/**
 * A finite, random-access collection of examples and their targets, as PyTorch's map-style
 * {@code Dataset} of {@code (x, y)} pairs. Examples are copied out as floats so a
 * {@link DataLoader} can pack them straight into a batch buffer.
 *
 * <p><b>Targets.</b> By default a target is one class label, an {@code int} in
 * {@code [0, numClasses())} read with {@link #label}: the classification datasets
 * ({@link InMemoryDataset}, {@link FashionMnist}, {@link Mnist}) implement only that. A dataset
 * with other targets says so with {@link #targetType()} and {@link #targetShape()} and copies
 * them out with one of the {@code target} methods:
 * <ul>
 *   <li>{@link DType#F32} targets of any shape: regression ({@code [1]} or {@code [k]} values),
 *       multi-label ({@code [k]} 0/1 floats), dense maps; implement {@link #target(int, float[], int)}.
 *   <li>{@link DType#I32} targets of shape {@code [s, ...]}: a class per position, as a token
 *       sequence; implement {@link #target(int, int[], int)}.
 * </ul>
 * {@link ArrayDataset} builds one from arrays. The trainer feeds the loss a batch of targets of
 * shape {@code [n, ...targetShape]} and type {@code targetType}: {@code [n]} ints for labels,
 * exactly as before, so every existing dataset keeps working unchanged.
 */
public interface Dataset {
    /** Number of examples. */
    int size();

    /** Shape of one example without the batch dimension, e.g. {@code [28, 28]}. */
    Shape exampleShape();

    /**
     * Number of classes; every label lies in {@code [0, numClasses)}. A classification dataset
     * must override this; the default, 0, means the targets are not class labels (or their range
     * is not known), so nothing is checked against it.
     */
    default int numClasses() { return 0; }

    /** Copies example {@code index} (already scaled, e.g. pixels to [0,1]) into {@code dst} at {@code offset}. */
    void features(int index, float[] dst, int offset);

    /**
     * Class label of example {@code index}, for the default target (one {@code I32} label). A
     * dataset with other targets need not implement it; the default refuses, naming them.
     */
    default int label(int index) {
        throw new UnsupportedOperationException(this + " has " + targetType() + " targets of shape " + targetShape()
                + ", not one class label per example; read them with target(index, dst, offset)");
    }

    /** Element type of the targets: {@link DType#I32} (class labels, the default) or {@link DType#F32}. */
    default DType targetType() { return DType.I32; }

    /** Shape of one example's target without the batch dimension: {@code []} (one label) by default. */
    default Shape targetShape() { return Shape.scalar(); }

    /** Number of values in one example's target. */
    default int targetSize() { return Math.toIntExact(targetShape().size()); }

    /**
     * Copies the {@code targetSize()} int targets of example {@code index} into {@code dst} at
     * {@code offset}, row-major. The default writes {@link #label} for a scalar target.
     */
    default void target(int index, int[] dst, int offset) {
        if (targetShape().rank() != 0) {
            throw new UnsupportedOperationException(this + " declares I32 targets of shape " + targetShape()
                    + " but does not implement target(int, int[], int) to copy them");
        }
        dst[offset] = label(index);
    }

    /**
     * Copies the {@code targetSize()} float targets of example {@code index} into {@code dst} at
     * {@code offset}, row-major; for datasets whose {@link #targetType()} is {@link DType#F32}.
     */
    default void target(int index, float[] dst, int offset) {
        throw new UnsupportedOperationException(this + " has " + targetType() + " targets; "
                + (targetType() == DType.F32 ? "it must implement target(int, float[], int)" : "read them with target(int, int[], int)"));
    }

    /** Number of floats in one example. */
    default int exampleSize() { return Math.toIntExact(exampleShape().size()); }

    /** A view of the examples at {@code indices}, in that order; no data is copied. */
    /**
     * These examples with {@code transform} applied to their features as they are read (torchvision's
     * {@code transform=} argument); {@code seed} fixes the random augmentations, which differ from
     * epoch to epoch. Apply it to the training split only.
     */
    default Dataset transform(Transform transform, long seed) { return new TransformedDataset(this, transform, seed); }

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
