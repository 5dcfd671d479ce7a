package dev.kiln.spi;

import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.Locale;

/**
 * A primitive a plugin can name in {@link Capabilities#unsupported()}: one primitive record
 * ({@code PrimitiveKind.of(Primitive.Conv2d.class)}), or one function of the elementwise and
 * reduce primitives ({@code PrimitiveKind.of(UnaryFn.ERF)}). {@code function} is null for the
 * whole record.
 */
public record PrimitiveKind(Class<? extends Primitive> op, Enum<?> function) {
    public PrimitiveKind {
        if (op == null || !op.isRecord()) {
            throw new IllegalArgumentException("a PrimitiveKind names one primitive record, e.g. Primitive.Conv2d.class, not " + op);
        }
    }

    public static PrimitiveKind of(Class<? extends Primitive> op) { return new PrimitiveKind(op, null); }

    public static PrimitiveKind of(UnaryFn fn) { return new PrimitiveKind(Primitive.Unary.class, fn); }

    public static PrimitiveKind of(BinaryFn fn) { return new PrimitiveKind(Primitive.Binary.class, fn); }

    public static PrimitiveKind of(ReduceFn fn) { return new PrimitiveKind(Primitive.Reduce.class, fn); }

    /** Whether {@code p} is of this kind. */
    public boolean matches(Primitive p) {
        if (!op.isInstance(p)) return false;
        if (function == null) return true;
        return switch (p) {
            case Primitive.Unary u -> u.fn() == function;
            case Primitive.Binary b -> b.fn() == function;
            case Primitive.Reduce r -> r.fn() == function;
            default -> false;
        };
    }

    @Override public String toString() {
        return (function != null ? function.name() : op.getSimpleName()).toLowerCase(Locale.ROOT);
    }
}
