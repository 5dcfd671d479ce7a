package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Bulk moves between tensors of any dtype and {@code double[]} or {@code long[]} scratch rows.
 * Java kernels compute on floating values as doubles and on integers and bools as longs; the
 * dtype switch runs once per row, never per element. A single f32 operation computed in double
 * and rounded once gives the same float as computing it in float.
 */
final class Elements {
    private Elements() {}

    /** Scratch rows are at most this long, so kernels never allocate in proportion to a tensor. */
    static final int BLOCK = 4096;

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    /** Reads {@code n} elements from element index {@code at}, {@code stride} elements apart. */
    static void load(MemorySegment s, DType t, long at, long stride, double[] dst, int n) { load(s, t, at, stride, dst, n, 0); }

    /** As above, filling {@code dst} from index {@code off}. */
    static void load(MemorySegment s, DType t, long at, long stride, double[] dst, int n, int off) {
        switch (t) {
            case F32 -> { for (int i = 0; i < n; i++) dst[off + i] = s.getAtIndex(F32, at + i * stride); }
            case F64 -> { for (int i = 0; i < n; i++) dst[off + i] = s.getAtIndex(F64, at + i * stride); }
            case BF16 -> { for (int i = 0; i < n; i++) dst[off + i] = bf16(s.getAtIndex(I16, at + i * stride)); }
            case F16 -> { for (int i = 0; i < n; i++) dst[off + i] = Float.float16ToFloat(s.getAtIndex(I16, at + i * stride)); }
            case I32 -> { for (int i = 0; i < n; i++) dst[off + i] = s.getAtIndex(I32, at + i * stride); }
            case I64 -> { for (int i = 0; i < n; i++) dst[off + i] = s.getAtIndex(I64, at + i * stride); }
            case I8 -> { for (int i = 0; i < n; i++) dst[off + i] = s.get(I8, at + i * stride); }
            case BOOL -> { for (int i = 0; i < n; i++) dst[off + i] = s.get(I8, at + i * stride) != 0 ? 1 : 0; }
        }
    }

    /** As {@link #load(MemorySegment, DType, long, long, double[], int)}; floating values truncate toward zero. */
    static void load(MemorySegment s, DType t, long at, long stride, long[] dst, int n) {
        switch (t) {
            case I32 -> { for (int i = 0; i < n; i++) dst[i] = s.getAtIndex(I32, at + i * stride); }
            case I64 -> { for (int i = 0; i < n; i++) dst[i] = s.getAtIndex(I64, at + i * stride); }
            case I8 -> { for (int i = 0; i < n; i++) dst[i] = s.get(I8, at + i * stride); }
            case BOOL -> { for (int i = 0; i < n; i++) dst[i] = s.get(I8, at + i * stride) != 0 ? 1 : 0; }
            case F32 -> { for (int i = 0; i < n; i++) dst[i] = (long) s.getAtIndex(F32, at + i * stride); }
            case F64 -> { for (int i = 0; i < n; i++) dst[i] = (long) s.getAtIndex(F64, at + i * stride); }
            case BF16 -> { for (int i = 0; i < n; i++) dst[i] = (long) bf16(s.getAtIndex(I16, at + i * stride)); }
            case F16 -> { for (int i = 0; i < n; i++) dst[i] = (long) Float.float16ToFloat(s.getAtIndex(I16, at + i * stride)); }
        }
    }

    /** Writes {@code n} elements contiguously from element index {@code at}: floats round, integers truncate toward zero, bools are 0/1. */
    static void store(MemorySegment s, DType t, long at, double[] src, int n) {
        switch (t) {
            case F32 -> { for (int i = 0; i < n; i++) s.setAtIndex(F32, at + i, (float) src[i]); }
            case F64 -> { for (int i = 0; i < n; i++) s.setAtIndex(F64, at + i, src[i]); }
            case BF16 -> { for (int i = 0; i < n; i++) s.setAtIndex(I16, at + i, bf16((float) src[i])); }
            case F16 -> { for (int i = 0; i < n; i++) s.setAtIndex(I16, at + i, Float.floatToFloat16((float) src[i])); }
            case I32 -> { for (int i = 0; i < n; i++) s.setAtIndex(I32, at + i, (int) src[i]); }
            case I64 -> { for (int i = 0; i < n; i++) s.setAtIndex(I64, at + i, (long) src[i]); }
            case I8 -> { for (int i = 0; i < n; i++) s.set(I8, at + i, (byte) (int) src[i]); }
            case BOOL -> { for (int i = 0; i < n; i++) s.set(I8, at + i, src[i] != 0 ? (byte) 1 : 0); }
        }
    }

    /** As {@link #store(MemorySegment, DType, long, double[], int)} from integers: narrowing wraps, as in Java. */
    static void store(MemorySegment s, DType t, long at, long[] src, int n) {
        switch (t) {
            case F32 -> { for (int i = 0; i < n; i++) s.setAtIndex(F32, at + i, (float) src[i]); }
            case F64 -> { for (int i = 0; i < n; i++) s.setAtIndex(F64, at + i, (double) src[i]); }
            case BF16 -> { for (int i = 0; i < n; i++) s.setAtIndex(I16, at + i, bf16((float) src[i])); }
            case F16 -> { for (int i = 0; i < n; i++) s.setAtIndex(I16, at + i, Float.floatToFloat16((float) src[i])); }
            case I32 -> { for (int i = 0; i < n; i++) s.setAtIndex(I32, at + i, (int) src[i]); }
            case I64 -> { for (int i = 0; i < n; i++) s.setAtIndex(I64, at + i, src[i]); }
            case I8 -> { for (int i = 0; i < n; i++) s.set(I8, at + i, (byte) src[i]); }
            case BOOL -> { for (int i = 0; i < n; i++) s.set(I8, at + i, src[i] != 0 ? (byte) 1 : 0); }
        }
    }

    static float bf16(short bits) { return Float.intBitsToFloat((bits & 0xffff) << 16); }

    /** Rounds to nearest even, keeping NaN a NaN. */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }
}
