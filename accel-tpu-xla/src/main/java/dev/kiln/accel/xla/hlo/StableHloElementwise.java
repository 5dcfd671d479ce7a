package dev.kiln.accel.xla.hlo;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;

/**
 * Unary, binary, where and cast. The IR broadcasts implicitly (NumPy rules) and StableHLO does not,
 * so every operand is first broadcast to the result shape. Integer and bool arithmetic follow the
 * reference's definitions where StableHLO's differ or leave them open: integer division by zero is
 * 0, bool arithmetic is logic, and narrowing casts round or wrap exactly as the reference's.
 */
final class StableHloElementwise {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    private final StableHloWriter w;

    StableHloElementwise(StableHloWriter w) { this.w = w; }

    Ssa unary(UnaryFn fn, Ssa x) {
        return switch (fn) {
            case NEG -> w.map("negate", x);
            case EXP -> w.map("exponential", x);
            case LOG -> w.map("log", x);
            case SQRT -> w.map("sqrt", x);
            case TANH -> w.map("tanh", x);
            case SIGMOID -> w.map("logistic", x);
            // maximum propagates NaN, as PyTorch's relu and the oneDNN plugin do.
            case RELU -> w.map("maximum", x, w.splatLike(0, x));
            case ABS -> w.map("abs", x);
            case GELU -> gelu(x);
            case ERF -> erf(x);
        };
    }

    /**
     * StableHLO has no erf; CHLO's, which JAX's modules carry and XLA expands into its own
     * polynomial, is accepted by the same parser. Half precision computes in f32 and rounds once.
     */
    private Ssa erf(Ssa in) {
        Ssa x = w.convert(in, in.element().isHalf() ? HloElement.F32 : in.element());
        return w.convert(w.chlo("erf", x), in.element());
    }

    /** The tanh form, {@link UnaryFn#gelu}; half precision computes in f32 and rounds once, as the reference does. */
    private Ssa gelu(Ssa in) {
        Ssa x = w.convert(in, in.element().isHalf() ? HloElement.F32 : in.element());
        Ssa cube = w.map("multiply", w.map("multiply", x, x), x);
        Ssa inner = w.map("add", x, w.map("multiply", w.splatLike(0.044715, x), cube));
        Ssa t = w.map("tanh", w.map("multiply", w.splatLike(SQRT_2_OVER_PI, x), inner));
        Ssa y = w.map("multiply", w.map("multiply", w.splatLike(0.5, x), x), w.map("add", w.splatLike(1, x), t));
        return w.convert(y, in.element());
    }

    Ssa binary(BinaryFn fn, Ssa a0, Ssa b0, Shape out) {
        Ssa a = w.broadcastTo(a0, out), b = w.broadcastTo(b0, out);
        if (fn.isComparison()) return w.compare(fn.name(), a, b);
        if (a.element().isBool()) return logical(fn, a, b);
        return switch (fn) {
            case ADD -> w.map("add", a, b);
            case SUB -> w.map("subtract", a, b);
            case MUL -> w.map("multiply", a, b);
            case DIV -> a.element().isFloat() ? w.map("divide", a, b) : integerDivide(a, b);
            case MAX -> w.map("maximum", a, b);
            case MIN -> w.map("minimum", a, b);
            case POW -> a.element().isFloat() ? w.map("power", a, b) : integerPower(a, b);
            case EQ, GT, LT -> throw new IllegalStateException("comparisons are handled above");
        };
    }

    /** Truncating division with {@code x / 0 = 0}, which StableHLO leaves to the implementation. */
    private Ssa integerDivide(Ssa a, Ssa b) {
        Ssa zero = w.splatLike(0, b);
        Ssa byZero = w.compare("EQ", b, zero);
        Ssa quotient = w.map("divide", a, w.select(byZero, w.splatLike(1, b), b));
        return w.select(byZero, zero, quotient);
    }

    /**
     * {@code a^b} on integers. The reference computes {@code Math.pow} and truncates, so a negative
     * exponent gives 0, except for bases 1 (1), -1 (±1 by the exponent's parity) and 0 (infinity,
     * saturated to the i64 maximum and wrapped to the type); XLA's integer power returns 0 for
     * all of them. Results wrap to the type as the reference's do; they differ only beyond 2^53,
     * where the reference's double loses precision and, past 2^63, saturates.
     */
    private Ssa integerPower(Ssa a, Ssa b) {
        Ssa zero = w.splatLike(0, a), one = w.splatLike(1, a), minusOne = w.splatLike(-1, a);
        Ssa odd = w.compare("EQ", w.map("and", b, one), one);
        Ssa byZero = w.broadcastTo(w.integer(HloLiterals.wrap(Long.MAX_VALUE, a.element()), a.element()), a.shape());
        Ssa negative = w.select(w.compare("EQ", a, one), one,
                w.select(w.compare("EQ", a, minusOne), w.select(odd, minusOne, one),
                        w.select(w.compare("EQ", a, zero), byZero, zero)));
        return w.select(w.compare("LT", b, zero), negative, w.map("power", a, b));
    }

    /**
     * Bool arithmetic as the reference computes it, in numbers then mapped back to bool (non-zero is
     * true): sums are or, products and quotients and, a difference is xor, {@code a^b} is {@code a or not b}.
     */
    private Ssa logical(BinaryFn fn, Ssa a, Ssa b) {
        return switch (fn) {
            case ADD, MAX -> w.map("or", a, b);
            case MUL, DIV, MIN -> w.map("and", a, b);
            case SUB -> w.map("xor", a, b);
            case POW -> w.map("or", a, w.map("not", b));
            case EQ, GT, LT -> throw new IllegalStateException("comparisons are handled by the caller");
        };
    }

    Ssa where(Ssa cond, Ssa a, Ssa b, Shape out) {
        return w.select(w.broadcastTo(cond, out), w.broadcastTo(a, out), w.broadcastTo(b, out));
    }

    /**
     * {@code Cast}: to bool is {@code x != 0} (NaN is true); from bool 0 or 1. Float to i32 or i8
     * goes through i64, so out-of-range values wrap as the reference's {@code (int) (long) x} does
     * (XLA's float-to-int conversion saturates). Anything to f16 or bf16 goes through f32, because
     * the reference rounds f64 and integers to f32 first; a direct conversion could round once where
     * the reference rounds twice.
     */
    Ssa cast(Ssa x, HloElement to) {
        HloElement from = x.element();
        if (from == to) return w.copy(x);
        if (to.isBool()) return w.compare("NE", x, w.splatLike(0, x));
        if (to.isHalf() && !from.isHalf() && from != HloElement.F32 && !from.isBool()) return w.convert(w.convert(x, HloElement.F32), to);
        if (from.isFloat() && (to == HloElement.I32 || to == HloElement.I8)) return w.convert(w.convert(x, HloElement.I64), to);
        return w.convert(x, to);
    }
}
