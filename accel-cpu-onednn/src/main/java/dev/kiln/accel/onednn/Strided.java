package dev.kiln.accel.onednn;

import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * An iteration space shared by several operands, each with its own element strides (zero where
 * it is broadcast) and base offset. Axes of size one are dropped and neighbouring axes that every
 * operand walks contiguously are merged, so a kernel's inner loop runs over rows as long as the
 * layouts allow and the per-row bookkeeping is rare.
 */
final class Strided {
    final long[] dims;
    final long[][] strides;
    final long[] bases;
    /** Length of the innermost axis and the number of rows (products of the outer axes). */
    final long inner, rows;

    private Strided(long[] dims, long[][] strides, long[] bases) {
        this.dims = dims;
        this.strides = strides;
        this.bases = bases;
        this.inner = dims[dims.length - 1];
        long r = 1;
        for (int i = 0; i < dims.length - 1; i++) r *= dims[i];
        this.rows = r;
    }

    /** Element strides of {@code in} read as {@code out} under NumPy broadcasting: zero on expanded axes. */
    static long[] broadcastStrides(Shape in, Shape out) {
        long[] s = new long[out.rank()];
        long[] own = in.strides();
        int off = out.rank() - in.rank();
        for (int i = 0; i < in.rank(); i++) s[off + i] = in.dim(i) == 1 ? 0 : own[i];
        return s;
    }

    static long[] dense(Shape s) { return s.strides(); }

    static Strided of(Shape space, long[]... strides) { return withBases(space, new long[strides.length], strides); }

    /** As {@link #of}, with operand {@code k} starting at element {@code bases[k]}. */
    static Strided withBases(Shape space, long[] bases, long[]... strides) {
        List<Long> d = new ArrayList<>();
        List<long[]> st = new ArrayList<>();
        for (int i = 0; i < space.rank(); i++) {
            if (space.dim(i) == 1) continue;
            long[] col = new long[strides.length];
            for (int k = 0; k < strides.length; k++) col[k] = strides[k][i];
            int last = d.size() - 1;
            if (last >= 0 && mergeable(st.get(last), col, space.dim(i))) {
                d.set(last, d.get(last) * space.dim(i));
                st.set(last, col);
            } else {
                d.add((long) space.dim(i));
                st.add(col);
            }
        }
        if (d.isEmpty()) {
            d.add(space.size() == 0 ? 0L : 1L);
            st.add(new long[strides.length]);
        }
        long[] dims = new long[d.size()];
        long[][] out = new long[strides.length][dims.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = d.get(i);
            for (int k = 0; k < strides.length; k++) out[k][i] = st.get(i)[k];
        }
        if (space.size() == 0) dims[dims.length - 1] = 0;
        return new Strided(dims, out, bases.clone());
    }

    /** An outer axis (stride {@code outer}) folds into the next (stride {@code inner}, size {@code n}) when it steps over all of it. */
    private static boolean mergeable(long[] outer, long[] inner, long n) {
        for (int k = 0; k < outer.length; k++) if (outer[k] != inner[k] * n) return false;
        return true;
    }

    /** Stride of operand {@code k} along the inner axis. */
    long innerStride(int k) { return strides[k][dims.length - 1]; }

    Cursor cursor() { return new Cursor(); }

    /** Walks the rows in order; {@link #at(int)} is operand {@code k}'s element offset at the current row start. */
    final class Cursor {
        private final long[] idx = new long[dims.length];
        private final long[] at = bases.clone();

        long at(int k) { return at[k]; }

        void next() {
            for (int i = dims.length - 2; i >= 0; i--) {
                for (int k = 0; k < at.length; k++) at[k] += strides[k][i];
                if (++idx[i] < dims[i]) return;
                idx[i] = 0;
                for (int k = 0; k < at.length; k++) at[k] -= strides[k][i] * dims[i];
            }
        }
    }
}
