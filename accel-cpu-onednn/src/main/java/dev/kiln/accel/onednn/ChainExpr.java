package dev.kiln.accel.onednn;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;

/**
 * The expression tree of a fused elementwise chain. Values are f32 (booleans are 0 or 1), so
 * an f32 result agrees with running the chain's primitives one by one, each rounding to f32.
 */
sealed interface ChainExpr {
    /** The chain's {@code index}-th input. */
    record In(int index) implements ChainExpr {
        @Override public String toString() { return "$" + index; }
    }

    /** A scalar constant (an inlined fill). */
    record Const(float value) implements ChainExpr {
        @Override public String toString() { return Float.toString(value); }
    }

    record Un(UnaryFn fn, ChainExpr x) implements ChainExpr {
        @Override public String toString() { return fn.name().toLowerCase(java.util.Locale.ROOT) + "(" + x + ")"; }
    }

    /** Comparisons give 0 or 1. */
    record Bin(BinaryFn fn, ChainExpr a, ChainExpr b) implements ChainExpr {
        @Override public String toString() { return fn.name().toLowerCase(java.util.Locale.ROOT) + "(" + a + ", " + b + ")"; }
    }

    /** How an input is indexed by the output's flat index {@code i}. */
    enum Layout {
        /** Same shape as the output: element {@code i}. */
        DENSE,
        /** One element for all. */
        SCALAR,
        /** The output's trailing dimensions (a bias row): element {@code i % inner}. */
        ROW,
        /** Shape [rows, 1] of a rank-2 output: element {@code i / cols}. */
        COLUMN;

        /** How {@code in} broadcasts to {@code out}, or null when no layout fits. */
        static Layout of(Shape in, Shape out) {
            if (in.equals(out)) return DENSE;
            if (in.size() == 1) return SCALAR;
            if (!in.broadcastsTo(out)) return null;
            int lead = 0;
            while (lead < in.rank() && in.dim(lead) == 1) lead++;
            int k = in.rank() - lead;
            boolean trailing = k <= out.rank();
            for (int j = 0; j < k && trailing; j++) if (in.dim(lead + j) != out.dim(out.rank() - k + j)) trailing = false;
            if (trailing) return ROW;
            if (out.rank() == 2 && in.rank() == 2 && in.dim(0) == out.dim(0) && in.dim(1) == 1) return COLUMN;
            return null;
        }
    }
}
