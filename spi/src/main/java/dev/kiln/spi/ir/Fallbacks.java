package dev.kiln.spi.ir;

import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.List;

/**
 * Primitives the IR can spell in other primitives, for plugins that declare them unsupported.
 * Only exact identities (up to rounding): a plugin that lacks {@code sigmoid} gets
 * {@code 1 / (1 + exp(-x))}, never an approximation of it. No fallback leads back to the
 * primitive it replaces, so rewriting terminates. Negation is a multiplication by -1, which
 * also holds for the integer types {@code neg} is not defined on.
 */
final class Fallbacks {
    private Fallbacks() {}

    /** {@code p} applied to {@code in}, in other primitives; null when the IR has no fallback for {@code p}. */
    static List<Value> of(Primitive p, Graph.Builder b, List<Value> in) {
        Value x = in.getFirst();
        Value y = switch (p) {
            case Primitive.Unary u -> switch (u.fn()) {
                case NEG -> negate(b, x);
                case SQRT -> b.binary(BinaryFn.POW, x, b.scalar(0.5, x));
                case SIGMOID -> b.div(b.scalar(1, x), b.add(b.scalar(1, x), b.unary(UnaryFn.EXP, negate(b, x))));
                case RELU -> b.binary(BinaryFn.MAX, x, b.scalar(0, x));
                case ABS -> b.binary(BinaryFn.MAX, x, negate(b, x));
                case GELU -> gelu(b, x);
                case EXP, LOG, TANH, ERF -> null;
            };
            case Primitive.Binary bin -> switch (bin.fn()) {
                case SUB -> b.add(x, negate(b, in.get(1)));
                case MIN -> negate(b, b.binary(BinaryFn.MAX, negate(b, x), negate(b, in.get(1))));
                case DIV -> x.type().dtype().isFloating() ? b.mul(x, b.binary(BinaryFn.POW, in.get(1), b.scalar(-1, x))) : null;
                case ADD, MUL, MAX, POW, EQ, GT, LT -> null;
            };
            default -> null;
        };
        return y == null ? null : List.of(y);
    }

    private static Value negate(Graph.Builder b, Value x) { return b.mul(x, b.scalar(-1, x)); }

    /** {@link UnaryFn#gelu(double)}: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    private static Value gelu(Graph.Builder b, Value x) {
        Value cube = b.mul(b.mul(x, x), x);
        Value inner = b.mul(b.scalar(Math.sqrt(2 / Math.PI), x), b.add(x, b.mul(b.scalar(0.044715, x), cube)));
        return b.mul(b.mul(b.scalar(0.5, x), x), b.add(b.scalar(1, x), b.unary(UnaryFn.TANH, inner)));
    }
}
