package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.Elements.BLOCK;
import static dev.kiln.accel.onednn.Elements.load;
import static dev.kiln.accel.onednn.Elements.store;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;

/**
 * Elementwise kernels in Java for what oneDNN does not take: f64 and integer types, pow,
 * comparisons, a broadcast first operand, {@code where} and {@code cast}. Rows are processed in
 * blocks through scratch arrays with the function chosen once per block.
 */
final class JavaElementwise {
    private JavaElementwise() {}

    static Kernel unary(UnaryFn fn, TensorType t) {
        long size = t.shape().size();
        DType d = t.dtype();
        return (in, out) -> {
            double[] x = new double[(int) Math.min(size, BLOCK)];
            for (long i = 0; i < size; i += BLOCK) {
                int m = (int) Math.min(BLOCK, size - i);
                load(in[0], d, i, 1, x, m);
                apply(fn, x, m);
                store(out[0], d, i, x, m);
            }
        };
    }

    static Kernel binary(BinaryFn fn, TensorType a, TensorType b, TensorType out) {
        Strided sp = Strided.of(out.shape(), Strided.dense(out.shape()),
                Strided.broadcastStrides(a.shape(), out.shape()), Strided.broadcastStrides(b.shape(), out.shape()));
        long n = sp.inner, sa = sp.innerStride(1), sb = sp.innerStride(2);
        int blk = (int) Math.min(n, BLOCK);
        DType ta = a.dtype(), tb = b.dtype(), to = out.dtype();
        boolean floating = ta.isFloating(), compare = fn.isComparison();
        return (in, o) -> {
            double[] xd = floating ? new double[blk] : null, yd = floating ? new double[blk] : null;
            long[] xl = floating ? null : new long[blk], yl = floating ? null : new long[blk];
            long[] r = compare ? new long[blk] : xl;
            Strided.Cursor c = sp.cursor();
            for (long row = 0; row < sp.rows; row++, c.next()) {
                for (long j = 0; j < n; j += BLOCK) {
                    int m = (int) Math.min(BLOCK, n - j);
                    if (floating) {
                        load(in[0], ta, c.at(1) + j * sa, sa, xd, m);
                        load(in[1], tb, c.at(2) + j * sb, sb, yd, m);
                        if (compare) compare(fn, xd, yd, r, m);
                        else apply(fn, xd, yd, m);
                    } else {
                        load(in[0], ta, c.at(1) + j * sa, sa, xl, m);
                        load(in[1], tb, c.at(2) + j * sb, sb, yl, m);
                        if (compare) compare(fn, xl, yl, r, m);
                        else apply(fn, xl, yl, m);
                    }
                    if (floating && !compare) store(o[0], to, c.at(0) + j, xd, m);
                    else store(o[0], to, c.at(0) + j, r, m);
                }
            }
        };
    }

    /** {@code cond ? a : b} with broadcasting; the branches are moved in their own lane, so nothing is converted. */
    static Kernel where(TensorType cond, TensorType a, TensorType b, TensorType out) {
        Strided sp = Strided.of(out.shape(), Strided.dense(out.shape()), Strided.broadcastStrides(cond.shape(), out.shape()),
                Strided.broadcastStrides(a.shape(), out.shape()), Strided.broadcastStrides(b.shape(), out.shape()));
        long n = sp.inner, sc = sp.innerStride(1), sa = sp.innerStride(2), sb = sp.innerStride(3);
        int blk = (int) Math.min(n, BLOCK);
        DType t = out.dtype();
        boolean floating = t.isFloating();
        return (in, o) -> {
            long[] cl = new long[blk];
            double[] xd = floating ? new double[blk] : null, yd = floating ? new double[blk] : null;
            long[] xl = floating ? null : new long[blk], yl = floating ? null : new long[blk];
            Strided.Cursor c = sp.cursor();
            for (long row = 0; row < sp.rows; row++, c.next()) {
                for (long j = 0; j < n; j += BLOCK) {
                    int m = (int) Math.min(BLOCK, n - j);
                    load(in[0], DType.BOOL, c.at(1) + j * sc, sc, cl, m);
                    if (floating) {
                        load(in[1], t, c.at(2) + j * sa, sa, xd, m);
                        load(in[2], t, c.at(3) + j * sb, sb, yd, m);
                        for (int i = 0; i < m; i++) if (cl[i] == 0) xd[i] = yd[i];
                        store(o[0], t, c.at(0) + j, xd, m);
                    } else {
                        load(in[1], t, c.at(2) + j * sa, sa, xl, m);
                        load(in[2], t, c.at(3) + j * sb, sb, yl, m);
                        for (int i = 0; i < m; i++) if (cl[i] == 0) xl[i] = yl[i];
                        store(o[0], t, c.at(0) + j, xl, m);
                    }
                }
            }
        };
    }

    /** Float to integer truncates toward zero; anything to bool is {@code x != 0}; bool is 0 or 1. */
    static Kernel cast(TensorType from, TensorType to) {
        long size = from.shape().size();
        DType f = from.dtype(), t = to.dtype();
        if (f == t) return (in, out) -> out[0].copyFrom(in[0]);
        boolean floating = f.isFloating();
        return (in, out) -> {
            int blk = (int) Math.min(size, BLOCK);
            double[] xd = floating ? new double[blk] : null;
            long[] xl = floating ? null : new long[blk];
            for (long i = 0; i < size; i += BLOCK) {
                int m = (int) Math.min(BLOCK, size - i);
                if (floating) {
                    load(in[0], f, i, 1, xd, m);
                    store(out[0], t, i, xd, m);
                } else {
                    load(in[0], f, i, 1, xl, m);
                    store(out[0], t, i, xl, m);
                }
            }
        };
    }

    static void apply(UnaryFn fn, double[] x, int n) {
        switch (fn) {
            case NEG -> { for (int i = 0; i < n; i++) x[i] = -x[i]; }
            case EXP -> { for (int i = 0; i < n; i++) x[i] = Math.exp(x[i]); }
            case LOG -> { for (int i = 0; i < n; i++) x[i] = Math.log(x[i]); }
            case SQRT -> { for (int i = 0; i < n; i++) x[i] = Math.sqrt(x[i]); }
            case TANH -> { for (int i = 0; i < n; i++) x[i] = Math.tanh(x[i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) x[i] = 1 / (1 + Math.exp(-x[i])); }
            case RELU -> { for (int i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : (x[i] == x[i] ? 0 : x[i]); }
            case ABS -> { for (int i = 0; i < n; i++) x[i] = Math.abs(x[i]); }
            case GELU -> { for (int i = 0; i < n; i++) x[i] = UnaryFn.gelu(x[i]); }
            case ERF -> { for (int i = 0; i < n; i++) x[i] = UnaryFn.erf(x[i]); }
        }
    }

    /** {@code x = fn(x, y)}. */
    static void apply(BinaryFn fn, double[] x, double[] y, int n) {
        switch (fn) {
            case ADD -> { for (int i = 0; i < n; i++) x[i] += y[i]; }
            case SUB -> { for (int i = 0; i < n; i++) x[i] -= y[i]; }
            case MUL -> { for (int i = 0; i < n; i++) x[i] *= y[i]; }
            case DIV -> { for (int i = 0; i < n; i++) x[i] /= y[i]; }
            case MAX -> { for (int i = 0; i < n; i++) x[i] = Math.max(x[i], y[i]); }
            case MIN -> { for (int i = 0; i < n; i++) x[i] = Math.min(x[i], y[i]); }
            case POW -> { for (int i = 0; i < n; i++) x[i] = Math.pow(x[i], y[i]); }
            case EQ, GT, LT -> throw new IllegalArgumentException(fn + " is a comparison");
        }
    }

    /** {@code x = fn(x, y)} on integers; division truncates, and dividing by zero gives zero rather than throwing mid-graph. */
    static void apply(BinaryFn fn, long[] x, long[] y, int n) {
        switch (fn) {
            case ADD -> { for (int i = 0; i < n; i++) x[i] += y[i]; }
            case SUB -> { for (int i = 0; i < n; i++) x[i] -= y[i]; }
            case MUL -> { for (int i = 0; i < n; i++) x[i] *= y[i]; }
            case DIV -> { for (int i = 0; i < n; i++) x[i] = y[i] == 0 ? 0 : x[i] / y[i]; }
            case MAX -> { for (int i = 0; i < n; i++) x[i] = Math.max(x[i], y[i]); }
            case MIN -> { for (int i = 0; i < n; i++) x[i] = Math.min(x[i], y[i]); }
            case POW -> { for (int i = 0; i < n; i++) x[i] = pow(x[i], y[i]); }
            case EQ, GT, LT -> throw new IllegalArgumentException(fn + " is a comparison");
        }
    }

    static void compare(BinaryFn fn, double[] x, double[] y, long[] r, int n) {
        switch (fn) {
            case EQ -> { for (int i = 0; i < n; i++) r[i] = x[i] == y[i] ? 1 : 0; }
            case GT -> { for (int i = 0; i < n; i++) r[i] = x[i] > y[i] ? 1 : 0; }
            case LT -> { for (int i = 0; i < n; i++) r[i] = x[i] < y[i] ? 1 : 0; }
            default -> throw new IllegalArgumentException(fn + " is not a comparison");
        }
    }

    static void compare(BinaryFn fn, long[] x, long[] y, long[] r, int n) {
        switch (fn) {
            case EQ -> { for (int i = 0; i < n; i++) r[i] = x[i] == y[i] ? 1 : 0; }
            case GT -> { for (int i = 0; i < n; i++) r[i] = x[i] > y[i] ? 1 : 0; }
            case LT -> { for (int i = 0; i < n; i++) r[i] = x[i] < y[i] ? 1 : 0; }
            default -> throw new IllegalArgumentException(fn + " is not a comparison");
        }
    }

    /** Integer power by squaring; a negative exponent gives the truncated reciprocal (0 unless the base is ±1). */
    static long pow(long base, long exp) {
        if (exp < 0) return base == 1 ? 1 : base == -1 ? ((exp & 1) == 0 ? 1 : -1) : 0;
        long r = 1;
        while (exp > 0) {
            if ((exp & 1) != 0) r *= base;
            base *= base;
            exp >>= 1;
        }
        return r;
    }
}
