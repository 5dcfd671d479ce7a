package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.util.SplittableRandom;

/**
 * A change to one example's features as it is read, torchvision's transforms: normalisation,
 * random crops and flips (see {@link Transforms}). A transform may change the example's shape;
 * random ones draw from the {@code random} they are given, which {@link Dataset#transform} seeds
 * from the example and how often it has been read, so an epoch's augmentation is reproducible.
 */
public interface Transform {
    /** The shape of a transformed example of shape {@code in}; throws naming both if it cannot take it. */
    Shape outputShape(Shape in);

    /** Writes the transform of {@code src} (shape {@code in}) to {@code dst} at {@code offset}. */
    void apply(float[] src, Shape in, float[] dst, int offset, SplittableRandom random);
}
