package dev.kiln.tck.internal;

import dev.kiln.core.Shape;

/**
 * Row-major index arithmetic. Broadcast, permute, slice, concat and reduce are all "walk one
 * shape in order and compute an offset into another with chosen strides", so one odometer serves.
 */
public final class Offsets {
    private Offsets() {}

    /**
     * For each element of {@code dims} in row-major order, {@code base + sum(coord[i] * strides[i])}.
     * A stride of 0 repeats (broadcasts) or collapses (reduces) that axis.
     */
    public static int[] walk(int[] dims, long[] strides, long base) {
        long n = 1;
        for (int d : dims) n *= d;
        int[] out = new int[Math.toIntExact(n)];
        int[] coord = new int[dims.length];
        long off = base;
        for (int k = 0; k < out.length; k++) {
            out[k] = (int) off;
            for (int i = dims.length - 1; i >= 0; i--) {
                coord[i]++;
                off += strides[i];
                if (coord[i] < dims[i]) break;
                off -= strides[i] * coord[i];
                coord[i] = 0;
            }
        }
        return out;
    }

    /** Where each element of {@code out} reads from in a tensor of shape {@code src} broadcast to it. */
    public static int[] broadcast(Shape src, Shape out) {
        long[] s = src.strides();
        long[] strides = new long[out.rank()];
        int off = out.rank() - src.rank();
        for (int i = 0; i < src.rank(); i++) strides[i + off] = src.dim(i) == 1 ? 0 : s[i];
        return walk(out.dims(), strides, 0);
    }
}
