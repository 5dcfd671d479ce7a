package dev.kiln.accel.onednn;

import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Data movement in Java: reshape, broadcast, permute (for dtypes a reorder does not take),
 * slice and concat. They only move bytes, so every dtype shares one strided copy keyed by the
 * element size.
 */
final class JavaMovement {
    private JavaMovement() {}

    /**
     * A reshape (or a sum over axes of size 1): the same bytes, so the executable lets the output
     * use the input's memory where it can, and copies where it cannot.
     */
    static Kernel view() {
        return new Kernel() {
            @Override public void run(MemorySegment[] in, MemorySegment[] out) { out[0].copyFrom(in[0]); }

            @Override public boolean isView() { return true; }
        };
    }

    static Kernel broadcast(TensorType in, TensorType out) {
        Strided sp = Strided.of(out.shape(), Strided.dense(out.shape()), Strided.broadcastStrides(in.shape(), out.shape()));
        int es = in.dtype().byteSize();
        return (i, o) -> copy(i[0], o[0], sp, es);
    }

    /** Output axis {@code k} walks input axis {@code perm[k]}. */
    static Kernel permute(List<Integer> perm, TensorType in, TensorType out) {
        long[] own = in.shape().strides(), src = new long[perm.size()];
        for (int k = 0; k < src.length; k++) src[k] = own[perm.get(k)];
        Strided sp = Strided.of(out.shape(), Strided.dense(out.shape()), src);
        int es = in.dtype().byteSize();
        return (i, o) -> copy(i[0], o[0], sp, es);
    }

    /** A slice; a view of its input's bytes from the first kept element when it keeps one contiguous range. */
    static Kernel slice(int axis, int start, TensorType in, TensorType out) {
        long[] strides = in.shape().strides();
        Strided sp = Strided.withBases(out.shape(), new long[] {0, start * strides[axis]}, Strided.dense(out.shape()), strides);
        int es = in.dtype().byteSize();
        if (!outermost(in.shape(), axis)) return (i, o) -> copy(i[0], o[0], sp, es);
        long offset = start * strides[axis] * es;
        return new Kernel() {
            @Override public void run(MemorySegment[] i, MemorySegment[] o) { copy(i[0], o[0], sp, es); }

            @Override public boolean isView() { return true; }

            @Override public long viewOffset() { return offset; }
        };
    }

    /** Whether every axis before {@code axis} has size 1, so that a range along it is one contiguous range of bytes. */
    private static boolean outermost(Shape s, int axis) {
        for (int a = 0; a < axis; a++) if (s.dim(a) != 1) return false;
        return true;
    }

    /** Each input lands in a window of the output: the output's strides, offset along the axis. */
    static Kernel concat(int axis, List<TensorType> ins, TensorType out) {
        long[] outStrides = out.shape().strides();
        Strided[] parts = new Strided[ins.size()];
        long offset = 0;
        for (int k = 0; k < parts.length; k++) {
            Shape s = ins.get(k).shape();
            parts[k] = Strided.withBases(s, new long[] {offset * outStrides[axis], 0}, outStrides, s.strides());
            offset += s.dim(axis);
        }
        int es = out.dtype().byteSize();
        if (!outermost(out.shape(), axis)) return (in, o) -> { for (int k = 0; k < parts.length; k++) copy(in[k], o[0], parts[k], es); };
        // Inputs lie end to end: the executable may have their producers write there (see Kernel#inputOffsets).
        long[] at = new long[ins.size()];
        for (int k = 1; k < at.length; k++) at[k] = at[k - 1] + ins.get(k - 1).byteSize();
        return new Kernel() {
            @Override public void run(MemorySegment[] in, MemorySegment[] o) { for (int k = 0; k < parts.length; k++) copy(in[k], o[0], parts[k], es); }

            @Override public long[] inputOffsets() { return at.clone(); }
        };
    }

    /** Copies operand 1 of {@code sp} from {@code src} to operand 0 in {@code dst}, elements of {@code es} bytes. */
    static void copy(MemorySegment src, MemorySegment dst, Strided sp, int es) {
        long n = sp.inner, sd = sp.innerStride(0), ss = sp.innerStride(1);
        Strided.Cursor c = sp.cursor();
        for (long row = 0; row < sp.rows; row++, c.next()) {
            long d = c.at(0), s = c.at(1);
            if (sd == 1 && ss == 1) {
                MemorySegment.copy(src, s * es, dst, d * es, n * es);
            } else {
                switch (es) {
                    case 1 -> { for (long j = 0; j < n; j++) dst.set(ValueLayout.JAVA_BYTE, d + j * sd, src.get(ValueLayout.JAVA_BYTE, s + j * ss)); }
                    case 2 -> { for (long j = 0; j < n; j++) dst.setAtIndex(Elements.I16, d + j * sd, src.getAtIndex(Elements.I16, s + j * ss)); }
                    case 4 -> { for (long j = 0; j < n; j++) dst.setAtIndex(Elements.I32, d + j * sd, src.getAtIndex(Elements.I32, s + j * ss)); }
                    case 8 -> { for (long j = 0; j < n; j++) dst.setAtIndex(Elements.I64, d + j * sd, src.getAtIndex(Elements.I64, s + j * ss)); }
                    default -> throw new IllegalArgumentException("no copy for " + es + "-byte elements");
                }
            }
        }
    }
}
