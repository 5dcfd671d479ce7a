package dev.kiln.accel.xla.hlo;

import java.util.Locale;

/**
 * Numbers written so that XLA reads back exactly the bits the reference computes. MLIR parses a
 * decimal float literal to a double and then rounds it to the element type, so writing a decimal
 * that is not exactly representable could round twice; every literal here is first rounded in Java
 * (round to nearest even, as {@code Cast} and {@code Fill} define) and then written as the exact
 * double of that value, which MLIR's conversion leaves alone. Infinities and NaN have no decimal
 * form and are written as bit patterns, MLIR's hexadecimal float literals.
 */
final class HloLiterals {
    private HloLiterals() {}

    /** {@code value} as {@code Fill} stores it in {@code element}: rounded for floats, truncated and wrapped for integers. */
    static String of(double value, HloElement element) {
        if (element.isFloat()) return floating(roundTo(value, element), element);
        if (element == HloElement.I1) return value != 0 ? "true" : "false"; // NaN is non-zero, as the reference has it
        return integer(wrap((long) value, element), element);
    }

    /** An integer literal; {@code ui64} words are written unsigned. */
    static String integer(long value, HloElement element) {
        if (element == HloElement.I1) return value != 0 ? "true" : "false";
        return element == HloElement.UI64 ? Long.toUnsignedString(value) : Long.toString(value);
    }

    /** Two's-complement wrapping of {@code v} to the width of {@code element}. */
    static long wrap(long v, HloElement element) {
        return switch (element) {
            case I32 -> (int) v;
            case I8 -> (byte) v;
            default -> v;
        };
    }

    /** The nearest value of {@code element} to {@code v}, ties to even; f16 and bf16 round through f32 as the reference does. */
    static double roundTo(double v, HloElement element) {
        return switch (element) {
            case F64 -> v;
            case F32 -> (float) v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
            case BF16 -> Float.intBitsToFloat((bf16Bits((float) v) & 0xFFFF) << 16);
            default -> throw new IllegalArgumentException(element + " is not a floating type");
        };
    }

    private static String floating(double rounded, HloElement element) {
        if (!Double.isNaN(rounded) && !Double.isInfinite(rounded)) return Double.toString(rounded);
        float f = (float) rounded;
        return switch (element) {
            case F64 -> String.format(Locale.ROOT, "0x%016X", Double.doubleToRawLongBits(Double.isNaN(rounded) ? Double.NaN : rounded));
            case F32 -> String.format(Locale.ROOT, "0x%08X", Float.floatToRawIntBits(Float.isNaN(f) ? Float.NaN : f));
            case F16 -> String.format(Locale.ROOT, "0x%04X", Float.floatToFloat16(f) & 0xFFFF);
            case BF16 -> String.format(Locale.ROOT, "0x%04X", bf16Bits(f) & 0xFFFF);
            default -> throw new IllegalArgumentException(element + " is not a floating type");
        };
    }

    /** The bf16 nearest to {@code f} (ties to even), as its 16 bits; a NaN stays a quiet NaN. */
    static short bf16Bits(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x0040);
        int lowerHalf = bits & 0xFFFF, upper = bits >>> 16;
        boolean roundUp = lowerHalf > 0x8000 || (lowerHalf == 0x8000 && (upper & 1) == 1);
        return (short) (roundUp ? upper + 1 : upper);
    }
}
