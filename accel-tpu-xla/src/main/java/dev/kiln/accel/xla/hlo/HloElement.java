package dev.kiln.accel.xla.hlo;

import dev.kiln.core.DType;

/**
 * The element types the emitted text uses: one per Kiln dtype, plus unsigned 64-bit words, which
 * the random-number hash computes in so that its shifts, wrapping multiplies and constants read as
 * the reference's unsigned arithmetic does. StableHLO's signless integers ({@code i32}) are signed.
 */
enum HloElement {
    F64("f64"), F32("f32"), BF16("bf16"), F16("f16"), I64("i64"), I32("i32"), I8("i8"), I1("i1"), UI64("ui64");

    private final String mlir;

    HloElement(String mlir) { this.mlir = mlir; }

    static HloElement of(DType d) {
        return switch (d) {
            case F64 -> F64;
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            case I64 -> I64;
            case I32 -> I32;
            case I8 -> I8;
            case BOOL -> I1;
        };
    }

    String mlir() { return mlir; }

    boolean isFloat() { return this == F64 || this == F32 || this == BF16 || this == F16; }

    boolean isBool() { return this == I1; }

    /** Half-precision floats, which the emitter widens to f32 for anything that accumulates. */
    boolean isHalf() { return this == BF16 || this == F16; }

    /** What {@code stablehlo.compare} must be told the operands are; booleans compare as unsigned. */
    String compareType() {
        if (isFloat()) return "FLOAT";
        return this == I1 || this == UI64 ? "UNSIGNED" : "SIGNED";
    }

    /** The smallest value of the type, the identity of max: {@code -inf} for floats. */
    long minInteger() {
        return switch (this) {
            case I64 -> Long.MIN_VALUE;
            case I32 -> Integer.MIN_VALUE;
            case I8 -> Byte.MIN_VALUE;
            case I1, UI64 -> 0;
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }
}
