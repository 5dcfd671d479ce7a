package dev.kiln.spi.ir;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The primitive ops: every plugin supplies one kernel per record here. Keep this set small;
 * each new primitive costs every plugin a kernel. Groups: elementwise, type, reduce, contraction,
 * windows, movement, indexing, sources.
 */
public sealed interface Primitive extends Op {

    // ---- elementwise ------------------------------------------------------------------------

    enum UnaryFn {
        NEG, EXP, LOG, SQRT, TANH, SIGMOID, RELU, ABS,
        /** GELU in its tanh form, {@link #gelu(double)}; PyTorch's {@code GELU(approximate='tanh')}. */
        GELU,
        /** The error function, {@link #erf(double)}: exact GELU is {@code x/2 (1 + erf(x/sqrt 2))}. */
        ERF;

        private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

        /** {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}: the definition every plugin matches. */
        public static double gelu(double x) {
            return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
        }

        /**
         * {@code erf(x)} to about 1e-16 absolute, the definition every plugin matches. Below |x| = 3,
         * {@code 2/sqrt(pi) exp(-x^2) sum 2^n x^(2n+1) / (1*3*...*(2n+1))}, whose terms are all of one
         * sign (the Maclaurin series' alternating terms lose four digits near 3); above,
         * {@code 1 - erfc(x)} with erfc's continued fraction, which converges fast there.
         */
        public static double erf(double x) {
            if (Double.isNaN(x)) return x;
            double a = Math.abs(x);
            if (a >= 6) return Math.copySign(1, x); // erfc(6) < 3e-17
            if (a < 3) {
                double twoX2 = 2 * x * x, term = x, sum = x;
                for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                    term *= twoX2 / (2 * n + 1);
                    sum += term;
                }
                return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
            }
            // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...))))), from the bottom up.
            double f = a;
            for (int k = 60; k >= 1; k--) f = a + (k / 2.0) / f;
            return Math.copySign(1 - Math.exp(-a * a) / (SQRT_PI * f), x);
        }

        private static final double SQRT_PI = Math.sqrt(Math.PI), TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

        /** The derivative of {@link #gelu(double)}. */
        public static double geluDerivative(double x) {
            double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
            double t = Math.tanh(u);
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
        }
    }

    /** {@code fn(x)} elementwise on a floating tensor. */
    record Unary(UnaryFn fn) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (!in.getFirst().dtype().isFloating()) throw error(fn + " needs a floating type", in);
            return List.of(in.getFirst());
        }

        @Override public String opName() { return fn.name().toLowerCase(java.util.Locale.ROOT); }
    }

    enum BinaryFn {
        ADD, SUB, MUL, DIV, MAX, MIN, POW, EQ, GT, LT;

        /** Comparisons produce {@link DType#BOOL}. */
        public boolean isComparison() { return this == EQ || this == GT || this == LT; }
    }

    /** {@code fn(a, b)} elementwise with NumPy broadcasting; both inputs share one dtype. */
    record Binary(BinaryFn fn) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            TensorType a = in.get(0), b = in.get(1);
            if (a.dtype() != b.dtype()) throw error("dtypes differ", in);
            Shape out = Shape.broadcast(a.shape(), b.shape());
            if (out == null) throw error("shapes " + a.shape() + " and " + b.shape() + " do not broadcast", in);
            return List.of(new TensorType(fn.isComparison() ? DType.BOOL : a.dtype(), out));
        }

        @Override public String opName() { return fn.name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** {@code cond ? a : b} elementwise with broadcasting; {@code cond} is bool. */
    record Where() implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            if (in.get(0).dtype() != DType.BOOL) throw error("condition must be bool", in);
            if (in.get(1).dtype() != in.get(2).dtype()) throw error("branch dtypes differ", in);
            Shape s = Shape.broadcast(in.get(0).shape(), in.get(1).shape());
            s = s == null ? null : Shape.broadcast(s, in.get(2).shape());
            if (s == null) throw error("shapes do not broadcast", in);
            return List.of(new TensorType(in.get(1).dtype(), s));
        }
    }

    // ---- type -------------------------------------------------------------------------------

    /** Converts element type; float to int truncates toward zero, bool is 0 or 1. */
    record Cast(DType to) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            return List.of(in.getFirst().withDType(to));
        }
    }

    // ---- reduce -----------------------------------------------------------------------------

    enum ReduceFn { SUM, MAX }

    /** Reduces over {@code axes} (ascending, non-negative). */
    record Reduce(ReduceFn fn, List<Integer> axes, boolean keepDims) implements Primitive {
        public Reduce { axes = List.copyOf(axes); }

        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            Shape s = in.getFirst().shape();
            int prev = -1;
            for (int a : axes) {
                if (a <= prev || a >= s.rank()) throw error("bad axes " + axes + " for rank " + s.rank(), in);
                prev = a;
            }
            return List.of(in.getFirst().withShape(reducedShape(s)));
        }

        public Shape reducedShape(Shape s) {
            List<Integer> d = new ArrayList<>();
            for (int i = 0; i < s.rank(); i++) {
                if (!axes.contains(i)) d.add(s.dim(i));
                else if (keepDims) d.add(1);
            }
            return Shape.of(d.stream().mapToInt(Integer::intValue).toArray());
        }

        @Override public String opName() { return "reduce_" + fn.name().toLowerCase(java.util.Locale.ROOT); }
    }

    // ---- contraction ------------------------------------------------------------------------

    /**
     * {@code op(a) @ op(b)} where {@code op} optionally transposes the last two axes. Rank 2, or
     * rank 3 with equal leading batch dimensions.
     */
    record MatMul(boolean transA, boolean transB) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            TensorType a = in.get(0), b = in.get(1);
            if (a.dtype() != b.dtype()) throw error("dtypes differ", in);
            int r = a.shape().rank();
            if ((r != 2 && r != 3) || b.shape().rank() != r) throw error("needs two rank-2 or two rank-3 operands", in);
            if (r == 3 && a.shape().dim(0) != b.shape().dim(0)) throw error("batch dimensions differ", in);
            int m = transA ? a.shape().dim(-1) : a.shape().dim(-2);
            int ka = transA ? a.shape().dim(-2) : a.shape().dim(-1);
            int kb = transB ? b.shape().dim(-1) : b.shape().dim(-2);
            int n = transB ? b.shape().dim(-2) : b.shape().dim(-1);
            if (ka != kb) throw error("inner dimensions differ: " + a.shape() + (transA ? "^T" : "") + " @ " + b.shape() + (transB ? "^T" : ""), in);
            Shape out = r == 2 ? Shape.of(m, n) : Shape.of(a.shape().dim(0), m, n);
            return List.of(new TensorType(a.dtype(), out));
        }
    }

    // ---- windows: convolution and pooling ---------------------------------------------------
    //
    // A convolution is three primitives, forward and its two adjoints, because every vendor library
    // has exactly these three kernels (oneDNN forward/backward_data/backward_weights, cuDNN
    // Forward/BackwardData/BackwardFilter) and their VJPs close over the same three ops. Writing the
    // adjoints as forward convolutions of permuted tensors would need a general dimension-numbers
    // convolution and lose the vendors' backward kernels. Pooling adds one primitive: max pooling is
    // the window argmax followed by a Gather (so its gradient is the existing ScatterAdd); average
    // pooling is a depthwise convolution (see Composite.AvgPool2d).

    /**
     * PyTorch's {@code conv2d} without bias: x[n, c, h, w] cross-correlated with weight[o, c/groups,
     * kh, kw] gives [n, o, oh, ow]. The window's kernel size is the weight's.
     */
    record Conv2d(Window2d window, int groups) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            WindowShapes.sameFloating(this, in);
            return List.of(in.get(0).withShape(WindowShapes.conv(this, window, groups, in.get(0).shape(), in.get(1).shape(), in)));
        }
    }

    /**
     * The adjoint of {@link Conv2d} in x (a transposed convolution): inputs dy[n, o, oh, ow] and
     * weight; output dx of {@code input}'s shape.
     */
    record Conv2dBackwardData(Window2d window, int groups, Shape input) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            WindowShapes.sameFloating(this, in);
            Shape dy = WindowShapes.conv(this, window, groups, input, in.get(1).shape(), in);
            if (!dy.equals(in.get(0).shape())) throw error("dy must be " + dy + " for input " + input, in);
            return List.of(in.get(0).withShape(input));
        }
    }

    /** The adjoint of {@link Conv2d} in the weight: inputs x and dy; output dweight of {@code weight}'s shape. */
    record Conv2dBackwardWeights(Window2d window, int groups, Shape weight) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            WindowShapes.sameFloating(this, in);
            Shape dy = WindowShapes.conv(this, window, groups, in.get(0).shape(), weight, in);
            if (!dy.equals(in.get(1).shape())) throw error("dy must be " + dy + " for weight " + weight, in);
            return List.of(in.get(0).withShape(weight));
        }
    }

    /**
     * For each max-pooling window of x[n, c, h, w], the row-major flat index into x of its largest
     * element (the first one on ties; padding never wins), as i32 [n, c, oh, ow]. Not differentiable.
     */
    record MaxPool2dIndices(Window2d window) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (!in.getFirst().dtype().isFloating()) throw error("needs a floating input", in);
            if (in.getFirst().shape().size() > Integer.MAX_VALUE) throw error("input too large for i32 indices", in);
            return List.of(new TensorType(DType.I32, WindowShapes.pool(this, window, in.getFirst().shape(), in)));
        }
    }

    // ---- movement ---------------------------------------------------------------------------

    /** Same elements, new shape of equal size. */
    record Reshape(Shape shape) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (in.getFirst().shape().size() != shape.size()) throw error("cannot reshape " + in.getFirst().shape() + " to " + shape, in);
            return List.of(in.getFirst().withShape(shape));
        }
    }

    /** Reorders axes: output axis {@code i} is input axis {@code perm[i]}. */
    record Permute(List<Integer> perm) implements Primitive {
        public Permute { perm = List.copyOf(perm); }

        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            Shape s = in.getFirst().shape();
            if (perm.size() != s.rank() || perm.stream().distinct().count() != s.rank()
                    || perm.stream().anyMatch(p -> p < 0 || p >= s.rank())) throw error("bad permutation " + perm, in);
            int[] d = new int[s.rank()];
            for (int i = 0; i < d.length; i++) d[i] = s.dim(perm.get(i));
            return List.of(in.getFirst().withShape(Shape.of(d)));
        }
    }

    /** Expands to {@code shape} under NumPy broadcasting rules. */
    record Broadcast(Shape shape) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (!in.getFirst().shape().broadcastsTo(shape)) throw error(in.getFirst().shape() + " does not broadcast to " + shape, in);
            return List.of(in.getFirst().withShape(shape));
        }
    }

    /** Elements {@code [start, end)} along one axis. */
    record Slice(int axis, int start, int end) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            Shape s = in.getFirst().shape();
            if (axis < 0 || axis >= s.rank() || start < 0 || end > s.dim(axis) || start > end) throw error("bad slice [" + start + ", " + end + ") on axis " + axis, in);
            int[] d = s.dims();
            d[axis] = end - start;
            return List.of(in.getFirst().withShape(Shape.of(d)));
        }
    }

    /** Joins inputs along one axis; all other dimensions agree. */
    record Concat(int axis) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            if (in.isEmpty()) throw error("needs at least one input", in);
            Shape first = in.getFirst().shape();
            if (axis < 0 || axis >= first.rank()) throw error("bad axis " + axis, in);
            int total = 0;
            for (TensorType t : in) {
                if (t.dtype() != in.getFirst().dtype() || t.shape().rank() != first.rank()) throw error("inputs disagree", in);
                for (int i = 0; i < first.rank(); i++) if (i != axis && t.shape().dim(i) != first.dim(i)) throw error("inputs disagree off axis " + axis, in);
                total += t.shape().dim(axis);
            }
            int[] d = first.dims();
            d[axis] = total;
            return List.of(in.getFirst().withShape(Shape.of(d)));
        }
    }

    // ---- indexing ---------------------------------------------------------------------------

    /** {@code x.index_select(axis, idx)} generalised: output shape is {@code x[:axis] + idx + x[axis+1:]}. */
    record Gather(int axis) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            Shape x = in.get(0).shape(), idx = in.get(1).shape();
            if (in.get(1).dtype() != DType.I32 && in.get(1).dtype() != DType.I64) throw error("indices must be i32 or i64", in);
            if (axis < 0 || axis >= x.rank()) throw error("bad axis " + axis, in);
            return List.of(in.get(0).withShape(gatheredShape(x, idx, axis)));
        }

        static Shape gatheredShape(Shape x, Shape idx, int axis) {
            int[] d = new int[x.rank() - 1 + idx.rank()];
            int j = 0;
            for (int i = 0; i < axis; i++) d[j++] = x.dim(i);
            for (int i = 0; i < idx.rank(); i++) d[j++] = idx.dim(i);
            for (int i = axis + 1; i < x.rank(); i++) d[j++] = x.dim(i);
            return Shape.of(d);
        }
    }

    /** The adjoint of {@link Gather}: zeros of {@code shape} with {@code updates} added at {@code idx}. */
    record ScatterAdd(int axis, Shape shape) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            if (in.get(0).dtype() != DType.I32 && in.get(0).dtype() != DType.I64) throw error("indices must be i32 or i64", in);
            if (!Gather.gatheredShape(shape, in.get(0).shape(), axis).equals(in.get(1).shape())) throw error("updates do not match target " + shape, in);
            return List.of(new TensorType(in.get(1).dtype(), shape));
        }
    }

    // ---- sources ----------------------------------------------------------------------------

    /** A tensor filled with one value. */
    record Fill(double value, TensorType type) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 0);
            return List.of(type);
        }
    }

    /** {@code 0, 1, 2, ...} along {@code axis}, constant along the others. */
    record Iota(int axis, TensorType type) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 0);
            if (axis < 0 || axis >= type.shape().rank()) throw error("bad axis " + axis + " for " + type, in);
            return List.of(type);
        }
    }

    /**
     * Counter-based uniform random numbers in [0, 1): element {@code i} is {@link #sample(long, long)}
     * of the i64 scalar seed input, so every plugin produces the same stream and a step is
     * reproducible from its seed.
     */
    record RandomUniform(TensorType type) implements Primitive {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (in.getFirst().dtype() != DType.I64 || in.getFirst().shape().rank() != 0) throw error("seed must be an i64 scalar", in);
            if (!type.dtype().isFloating()) throw error("needs a floating type", in);
            return List.of(type);
        }

        /** SplitMix64 of (seed, counter), top 24 bits as a float in [0, 1). */
        public static float sample(long seed, long index) {
            long z = seed * 0x9E3779B97F4A7C15L + (index + 1) * 0xD1B54A32D192ED03L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            return (z >>> 40) * 0x1.0p-24f;
        }
    }
}
