package dev.kiln.api.data;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;

/**
 * One mini-batch: {@code size} examples packed row-major into {@code features}
 * ({@code featureShape} = {@code [size, ...exampleShape]}) and their targets
 * ({@code targetShape} = {@code [size, ...dataset.targetShape()]}): in {@code labels} when the
 * dataset's targets are {@link DType#I32} (class labels; {@code targets} is null), in
 * {@code targets} when they are {@link DType#F32} ({@code labels} is null). The arrays may be
 * longer than {@code size} examples when the loader reuses buffers sized for a full batch, so
 * read {@code size}, not the array lengths.
 */
public record Batch(float[] features, int[] labels, float[] targets, int size, Shape featureShape, Shape targetShape) {
    /** A batch of one class label per example, as before targets of other types existed. */
    public Batch(float[] features, int[] labels, int size, Shape featureShape) {
        this(features, labels, null, size, featureShape, Shape.of(size));
    }

    /** {@link DType#F32} when the targets are in {@link #targets()}, else {@link DType#I32}. */
    public DType targetType() { return targets != null ? DType.F32 : DType.I32; }

    /** Number of target values per example. */
    public int targetSize() { return size == 0 ? 0 : Math.toIntExact(targetShape.size() / size); }
}
