package dev.kiln.core;

import java.util.Arrays;

/**
 * An immutable tensor shape; a scalar has rank 0. Every shape's element count fits a long, so
 * {@link #size()} and the strides never overflow: a shape whose product does not is refused here,
 * where the dimensions are still known, rather than wrapping around and failing in a kernel.
 */
public final class Shape {
    private static final Shape SCALAR = new Shape(new int[0]);
    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        this.dims = dims;
        this.size = checkedSize(dims);
    }

    /** @throws IllegalArgumentException for a negative dimension or more than 2^63-1 elements */
    public static Shape of(int... dims) {
        return dims.length == 0 ? SCALAR : new Shape(dims.clone());
    }

    public static Shape scalar() { return SCALAR; }

    public int rank() { return dims.length; }

    /** Dimension {@code i}; negative indices count from the end. */
    public int dim(int i) { return dims[i < 0 ? dims.length + i : i]; }

    public int[] dims() { return dims.clone(); }

    public long size() { return size; }

    /** Row-major strides in elements. */
    public long[] strides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    public Shape drop(int axis) {
        int[] d = new int[dims.length - 1];
        for (int i = 0, j = 0; i < dims.length; i++) if (i != axis) d[j++] = dims[i];
        return new Shape(d);
    }

    /** NumPy broadcasting of two shapes, or {@code null} when they are incompatible. */
    public static Shape broadcast(Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.rank() ? 1 : a.dims[i - (r - a.rank())];
            int db = i < r - b.rank() ? 1 : b.dims[i - (r - b.rank())];
            if (da != db && da != 1 && db != 1) return null;
            out[i] = da == 1 ? db : da;
        }
        return new Shape(out);
    }

    /** True when this shape broadcasts to {@code target} under NumPy rules. */
    public boolean broadcastsTo(Shape target) {
        if (rank() > target.rank()) return false;
        int off = target.rank() - rank();
        for (int i = 0; i < rank(); i++) {
            if (dims[i] != 1 && dims[i] != target.dims[i + off]) return false;
        }
        return true;
    }

    private static long checkedSize(int[] dims) {
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            if (d == 0) return 0; // however large the other dimensions, nothing overflows
        }
        long n = 1;
        try {
            for (int d : dims) n = Math.multiplyExact(n, d);
        } catch (ArithmeticException e) {
            double approx = 1;
            for (int d : dims) approx *= d;
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "shape %s has %.1e elements, more than a tensor can hold (2^63-1)", Arrays.toString(dims), approx));
        }
        return n;
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    @Override public String toString() { return Arrays.toString(dims); }
}
