package dev.kiln.tck.internal;

import dev.kiln.core.DType;

/** How a double stands for an element of each dtype: rounding, truncation and wrapping. */
public final class Numerics {
    private Numerics() {}

    /** Significand bits of each type, integers counted as exact up to their width. */
    private static int precision(DType t) {
        return switch (t) {
            case F64 -> 53;
            case F32 -> 24;
            case F16 -> 11;
            case BF16 -> 8;
            case I64 -> 63;
            case I32 -> 31;
            case I8 -> 7;
            case BOOL -> 1;
        };
    }

    /**
     * {@code v} of type {@code from} converted to {@code to} as {@code Cast} defines it. A cast to a
     * floating type rounds only when it loses precision, so a same-type cast stays exact in float64
     * (finite differences rely on that).
     */
    public static double convert(double v, DType from, DType to) {
        if (to.isFloating()) {
            boolean widening = from.isFloating() && precision(from) <= precision(to);
            return widening ? v : roundTo(v, to);
        }
        return toInteger(v, to);
    }

    /** Integer and bool results wrap or clamp to their type; floating results stay float64. */
    public static double normalize(double v, DType t) { return t.isFloating() ? v : toInteger(v, t); }

    /** Truncation toward zero, then two's-complement wrapping; bool is 1 for anything non-zero (NaN too). */
    public static double toInteger(double v, DType t) {
        return switch (t) {
            case BOOL -> v != 0 ? 1 : 0;
            case I8 -> (byte) (long) v;
            case I32 -> (int) (long) v;
            case I64 -> (long) v;
            default -> throw new IllegalArgumentException(t + " is not an integer type");
        };
    }

    /** Round-to-nearest-even into a floating type. */
    public static double roundTo(double v, DType t) {
        return switch (t) {
            case F64 -> v;
            case F32 -> (float) v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
            case BF16 -> bf16ToFloat(floatToBf16((float) v));
            default -> throw new IllegalArgumentException(t + " is not a floating type");
        };
    }

    /** The upper half of a float, rounded to nearest even; NaN stays a quiet NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    public static float bf16ToFloat(short s) { return Float.intBitsToFloat((s & 0xFFFF) << 16); }
}
