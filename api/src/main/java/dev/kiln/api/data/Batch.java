package dev.kiln.api.data;

import dev.kiln.core.Shape;

/**
 * One mini-batch: {@code size} examples packed row-major into {@code features}
 * ({@code featureShape} = {@code [size, ...exampleShape]}) and their classes in {@code labels}.
 * The arrays may be longer than {@code size} examples when the loader reuses buffers sized for
 * a full batch, so read {@code size}, not the array lengths.
 */
public record Batch(float[] features, int[] labels, int size, Shape featureShape) {}
