package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.Elements.BLOCK;
import static dev.kiln.accel.onednn.Elements.load;
import static dev.kiln.accel.onednn.Elements.store;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;

/**
 * Gather and its adjoint scatter-add. Both see the data tensor as {@code [outer, axis, inner]} and
 * the gathered one as {@code [outer, indices, inner]}, so each index moves one contiguous run.
 */
final class JavaIndexing {
    private JavaIndexing() {}

    static Kernel gather(int axis, TensorType x, TensorType idx) {
        Shape s = x.shape();
        long outer = prefix(s, axis), inner = suffix(s, axis), dim = s.dim(axis);
        int count = (int) idx.shape().size();
        long rowBytes = inner * x.dtype().byteSize();
        DType it = idx.dtype();
        return (in, out) -> {
            long[] ix = indices(in[1], it, count, dim, "gather", s, axis);
            for (long o = 0; o < outer; o++) {
                for (int k = 0; k < count; k++) {
                    MemorySegment.copy(in[0], ((o * dim) + ix[k]) * rowBytes, out[0], (o * count + k) * rowBytes, rowBytes);
                }
            }
        };
    }

    /** Zeros of {@code shape}, then {@code updates[o, k, :]} added into row {@code idx[k]}; repeated indices accumulate. */
    static Kernel scatterAdd(int axis, Shape shape, TensorType idx, TensorType updates) {
        long outer = prefix(shape, axis), inner = suffix(shape, axis), dim = shape.dim(axis);
        int count = (int) idx.shape().size();
        DType it = idx.dtype(), t = updates.dtype();
        boolean floating = t.isFloating();
        if (t == DType.F32 && inner == 1 && outer == 1) {
            // Scalar rows (max-pool backward scatters one value per window): a tight float loop, not a block per element.
            return (in, out) -> {
                out[0].fill((byte) 0);
                long[] ix = indices(in[0], it, count, dim, "scatteradd", shape, axis);
                for (int k = 0; k < count; k++) {
                    out[0].setAtIndex(Elements.F32, ix[k], out[0].getAtIndex(Elements.F32, ix[k]) + in[1].getAtIndex(Elements.F32, k));
                }
            };
        }
        return (in, out) -> {
            out[0].fill((byte) 0);
            long[] ix = indices(in[0], it, count, dim, "scatteradd", shape, axis);
            int blk = (int) Math.min(inner, BLOCK);
            double[] ad = floating ? new double[blk] : null, ud = floating ? new double[blk] : null;
            long[] al = floating ? null : new long[blk], ul = floating ? null : new long[blk];
            for (long o = 0; o < outer; o++) {
                for (int k = 0; k < count; k++) {
                    long dst = (o * dim + ix[k]) * inner, src = (o * count + k) * inner;
                    for (long j = 0; j < inner; j += BLOCK) {
                        int m = (int) Math.min(BLOCK, inner - j);
                        if (floating) {
                            load(out[0], t, dst + j, 1, ad, m);
                            load(in[1], t, src + j, 1, ud, m);
                            for (int i = 0; i < m; i++) ad[i] += ud[i];
                            store(out[0], t, dst + j, ad, m);
                        } else {
                            load(out[0], t, dst + j, 1, al, m);
                            load(in[1], t, src + j, 1, ul, m);
                            for (int i = 0; i < m; i++) al[i] += ul[i];
                            store(out[0], t, dst + j, al, m);
                        }
                    }
                }
            }
        };
    }

    private static long[] indices(MemorySegment seg, DType t, int count, long dim, String op, Shape shape, int axis) {
        long[] ix = new long[count];
        load(seg, t, 0, 1, ix, count);
        for (long i : ix) {
            if (i < 0 || i >= dim) {
                throw new IndexOutOfBoundsException(op + ": index " + i + " out of range for axis " + axis + " of " + shape);
            }
        }
        return ix;
    }

    private static long prefix(Shape s, int axis) {
        long n = 1;
        for (int i = 0; i < axis; i++) n *= s.dim(i);
        return n;
    }

    private static long suffix(Shape s, int axis) {
        long n = 1;
        for (int i = axis + 1; i < s.rank(); i++) n *= s.dim(i);
        return n;
    }
}
