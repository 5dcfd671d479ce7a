package dev.kiln.spi.ir;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.List;

/**
 * Ops a plugin may implement natively (fused) and that otherwise decompose into primitives.
 * The decomposition is the op's definition: the conformance kit checks a native kernel against it.
 */
public sealed interface Composite extends Op {

    /** Emits primitives (or other composites) computing this op on {@code in}; returns the outputs. */
    List<Value> decompose(Graph.Builder b, List<Value> in);

    /** Activations that can follow a linear layer. */
    enum Activation {
        NONE, RELU, TANH, SIGMOID, GELU;

        public Value apply(Graph.Builder b, Value z) {
            return switch (this) {
                case NONE -> z;
                case RELU -> b.unary(UnaryFn.RELU, z);
                case TANH -> b.unary(UnaryFn.TANH, z);
                case SIGMOID -> b.unary(UnaryFn.SIGMOID, z);
                case GELU -> b.unary(UnaryFn.GELU, z);
            };
        }
    }

    /** {@code act(x @ w^T + bias)} with PyTorch's layout: x[n, in], w[out, in], bias[out]. */
    record Linear(Activation activation) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            Shape x = in.get(0).shape(), w = in.get(1).shape(), bias = in.get(2).shape();
            if (x.rank() != 2 || w.rank() != 2) throw error("needs x[n, in] and w[out, in]", in);
            if (x.dim(1) != w.dim(1)) throw error("input has " + x.dim(1) + " features, weight expects " + w.dim(1), in);
            if (bias.rank() != 1 || bias.dim(0) != w.dim(0)) throw error("bias must be [" + w.dim(0) + "]", in);
            return List.of(new TensorType(in.get(0).dtype(), Shape.of(x.dim(0), w.dim(0))));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value z = b.add(b.matmul(in.get(0), in.get(1), false, true), in.get(2));
            return List.of(activation.apply(b, z));
        }
    }

    /**
     * Dynamic int8 {@link Linear}, PyTorch's {@code quantize_dynamic} layer: inputs x[n, in] (f32 or
     * f64), int8 weights wq[out, in], their per-output-channel scales ws[out] and bias[out]; output
     * {@code act(dequant(quant(x) @ wq^T) + bias)} in x's type. The definition, which a native int8
     * kernel must reproduce:
     * <ul>
     * <li>x is quantized symmetrically per tensor, per call: {@code xs = max(max|x|, MIN_NORMAL) / 127},
     * {@code qx = round(x / xs)} with ties away from zero, so {@code |qx| <= 127} (no clamp needed;
     * the floor keeps an all-zero batch at zero instead of 0/0);</li>
     * <li>the integer products are summed as x's type holds them: exactly in f32 up to 1040 inputs
     * ({@code 1040 * 127^2 < 2^24}), as an int32 accumulator would;</li>
     * <li>the sum is dequantized by {@code xs * ws[o]}, then bias and activation follow.</li>
     * </ul>
     * A native kernel may round x/xs differently at an exact tie only, which the kit's cases avoid.
     */
    record QuantizedLinear(Activation activation) implements Composite {
        /** The largest int8 magnitude used: symmetric, so -128 is never produced. */
        public static final int QMAX = 127;

        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 4);
            TensorType x = in.get(0), wq = in.get(1), ws = in.get(2), bias = in.get(3);
            if (x.dtype() != DType.F32 && x.dtype() != DType.F64) throw error("needs f32 or f64 x: integer products sum exactly only there", in);
            if (wq.dtype() != DType.I8) throw error("weights must be i8, got " + wq.dtype().label(), in);
            if (x.shape().rank() != 2 || wq.shape().rank() != 2) throw error("needs x[n, in] and wq[out, in]", in);
            if (x.shape().dim(1) != wq.shape().dim(1)) throw error("input has " + x.shape().dim(1) + " features, weight expects " + wq.shape().dim(1), in);
            TensorType perChannel = new TensorType(x.dtype(), Shape.of(wq.shape().dim(0)));
            if (!ws.equals(perChannel) || !bias.equals(perChannel)) throw error("scales and bias must be " + perChannel, in);
            return List.of(new TensorType(x.dtype(), Shape.of(x.shape().dim(0), wq.shape().dim(0))));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.get(0), ws = in.get(2), bias = in.get(3);
            DType f = x.type().dtype();
            Value xs = scale(b, x);
            Value qx = quantize(b, x, xs);
            Value acc = b.matmul(b.cast(qx, f), b.cast(in.get(1), f), false, true);
            Value z = b.add(b.mul(acc, b.mul(xs, ws)), bias);
            return List.of(activation.apply(b, z));
        }

        /** The per-tensor symmetric scale of x, a scalar: {@code max(max|x|, MIN_NORMAL) / 127}. */
        public static Value scale(Graph.Builder b, Value x) {
            List<Integer> all = new java.util.ArrayList<>();
            for (int i = 0; i < x.type().shape().rank(); i++) all.add(i);
            Value amax = b.max(b.unary(UnaryFn.ABS, x), all, false);
            Value floored = b.binary(BinaryFn.MAX, amax, b.scalar(Float.MIN_NORMAL, amax));
            return b.div(floored, b.scalar(QMAX, floored));
        }

        /** {@code round(x / scale)} as i8, ties away from zero: Cast truncates, so add +-0.5 first. */
        public static Value quantize(Graph.Builder b, Value x, Value scale) {
            Value v = b.div(x, scale);
            Value half = b.where(b.binary(BinaryFn.LT, v, b.scalar(0, v)), b.scalar(-0.5, v), b.scalar(0.5, v));
            return b.cast(b.add(v, half), DType.I8);
        }
    }

    /**
     * GELU, exact: {@code x/2 (1 + erf(x / sqrt 2))}, PyTorch's and Keras's default GELU. (The tanh
     * form is the primitive {@link UnaryFn#GELU}.) A composite so that a plugin with a native
     * kernel, as oneDNN's {@code gelu_erf}, runs it as one op.
     */
    record Gelu() implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (!in.getFirst().dtype().isFloating()) throw error("gelu needs a floating type", in);
            return List.of(in.getFirst());
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.getFirst();
            Value erf = b.unary(UnaryFn.ERF, b.mul(x, b.scalar(Math.sqrt(0.5), x)));
            return List.of(b.mul(b.mul(x, b.scalar(0.5, x)), b.add(b.scalar(1, x), erf)));
        }
    }

    /** Softmax along {@code axis}, computed stably. */
    record Softmax(int axis) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (axis < 0 || axis >= in.getFirst().shape().rank()) throw error("bad axis " + axis, in);
            return List.of(in.getFirst());
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.getFirst();
            Value e = b.unary(UnaryFn.EXP, b.sub(x, b.max(x, List.of(axis), true)));
            return List.of(b.div(e, b.sum(e, List.of(axis), true)));
        }
    }

    /** Log-softmax along {@code axis}, computed stably. */
    record LogSoftmax(int axis) implements Composite {
        public List<TensorType> infer(List<TensorType> in) { return new Softmax(axis).infer(in); }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.getFirst();
            Value shifted = b.sub(x, b.max(x, List.of(axis), true));
            Value lse = b.unary(UnaryFn.LOG, b.sum(b.unary(UnaryFn.EXP, shifted), List.of(axis), true));
            return List.of(b.sub(shifted, lse));
        }
    }

    /** Mean over the batch of {@code -log softmax(logits)[label]}: logits[n, c], integer labels[n]. */
    record SoftmaxCrossEntropy() implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            TensorType logits = in.get(0), labels = in.get(1);
            if (logits.shape().rank() != 2 || !logits.dtype().isFloating()) throw error("logits must be floating [batch, classes]", in);
            if (labels.shape().rank() != 1 || labels.shape().dim(0) != logits.shape().dim(0)) {
                throw error("labels must be [" + logits.shape().dim(0) + "], got " + labels.shape(), in);
            }
            if (labels.dtype() != DType.I32 && labels.dtype() != DType.I64) throw error("labels must be i32 or i64", in);
            return List.of(new TensorType(logits.dtype(), Shape.scalar()));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value logits = in.get(0);
            int n = logits.type().shape().dim(0);
            Value logp = b.apply1(new LogSoftmax(1), logits);
            Value oneHot = oneHot(b, in.get(1), logits.type());
            Value total = b.sum(b.mul(oneHot, logp), List.of(0, 1), false);
            return List.of(b.mul(total, b.scalar(-1.0 / n, total)));
        }

        /** {@code labels[n]} as a float one-hot matrix of {@code like}'s type. */
        public static Value oneHot(Graph.Builder b, Value labels, TensorType like) {
            int n = like.shape().dim(0), c = like.shape().dim(1);
            Value l = b.reshape(b.cast(labels, like.dtype()), Shape.of(n, 1));
            Value classes = b.apply1(new Primitive.Iota(1, new TensorType(like.dtype(), Shape.of(1, c))));
            return b.cast(b.binary(BinaryFn.EQ, l, classes), like.dtype());
        }
    }

    /**
     * The gradient of {@link SoftmaxCrossEntropy} with respect to the logits, given the loss's
     * cotangent {@code g} (a scalar): {@code (softmax(logits) - onehot(labels)) * g / n}. Inputs
     * logits[n, c], labels[n], g; output [n, c]. Autodiff emits it so a plugin can run the whole
     * backward of the loss as one kernel.
     */
    record SoftmaxCrossEntropyGrad() implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            new SoftmaxCrossEntropy().infer(in.subList(0, 2));
            if (in.get(2).shape().rank() != 0 || in.get(2).dtype() != in.get(0).dtype()) throw error("g must be a scalar of the logits' type", in);
            return List.of(in.get(0));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value logits = in.get(0), g = in.get(2);
            int n = logits.type().shape().dim(0);
            Value p = b.apply1(new Softmax(1), logits);
            Value diff = b.sub(p, SoftmaxCrossEntropy.oneHot(b, in.get(1), logits.type()));
            return List.of(b.mul(diff, b.mul(g, b.scalar(1.0 / n, g))));
        }
    }

    /** PyTorch's {@code max_pool2d} (floor mode): the window maxima of x[n, c, h, w], gathered at {@link Primitive.MaxPool2dIndices}. */
    record MaxPool2d(Window2d window) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (!in.getFirst().dtype().isFloating()) throw error("needs a floating input", in);
            return List.of(in.getFirst().withShape(WindowShapes.pool(this, window, in.getFirst().shape(), in)));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.getFirst();
            Value idx = b.apply1(new Primitive.MaxPool2dIndices(window), x);
            Shape out = idx.type().shape();
            Value flat = b.reshape(x, Shape.of(Math.toIntExact(x.type().shape().size())));
            Value picked = b.apply1(new Primitive.Gather(0), flat, b.reshape(idx, Shape.of(Math.toIntExact(out.size()))));
            return List.of(b.reshape(picked, out));
        }
    }

    /**
     * PyTorch's {@code avg_pool2d} with its defaults (floor mode, padding counted in the divisor): a
     * depthwise convolution with a constant kernel, so it needs no primitive of its own.
     */
    record AvgPool2d(Window2d window) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (!in.getFirst().dtype().isFloating()) throw error("needs a floating input", in);
            if (window.dilationH() != 1 || window.dilationW() != 1) throw error("average pooling has no dilation, got " + window, in);
            return List.of(in.getFirst().withShape(WindowShapes.pool(this, window, in.getFirst().shape(), in)));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.getFirst();
            int c = x.type().shape().dim(1);
            Value w = b.fill(1.0 / (window.kernelH() * window.kernelW()), new TensorType(x.type().dtype(), Shape.of(c, 1, window.kernelH(), window.kernelW())));
            return List.of(b.apply1(new Primitive.Conv2d(window, c), x, w));
        }
    }

    /**
     * Batch normalisation over axis 1 of x[n, c, ...] (BatchNorm1d and 2d), inputs x, gamma[c],
     * beta[c], running mean[c], running variance[c]. Training: normalises with the batch statistics
     * (biased variance) and also outputs the updated running statistics, {@code (1 - momentum) old +
     * momentum batch} with the unbiased variance, as PyTorch does; the compiled step writes them
     * back. Evaluation: normalises with the running statistics; one output.
     */
    record BatchNorm(boolean training, double momentum, double eps) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 5);
            TensorType x = in.getFirst();
            if (x.shape().rank() < 2 || !x.dtype().isFloating()) throw error("needs floating x[n, c, ...]", in);
            TensorType stat = new TensorType(x.dtype(), Shape.of(x.shape().dim(1)));
            for (int i = 1; i < 5; i++) if (!in.get(i).equals(stat)) throw error("gamma, beta and running statistics must be " + stat, in);
            if (training && x.shape().size() / x.shape().dim(1) < 2) throw error("training needs more than one value per channel", in);
            return training ? List.of(x, stat, stat) : List.of(x);
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.get(0);
            Shape s = x.type().shape(), bc = perChannel(s), c = Shape.of(s.dim(1));
            Value gamma = b.reshape(in.get(1), bc), beta = b.reshape(in.get(2), bc);
            if (!training) {
                Value inv = b.div(b.scalar(1, x), b.unary(UnaryFn.SQRT, b.add(b.reshape(in.get(4), bc), b.scalar(eps, x))));
                return List.of(b.add(b.mul(b.mul(b.sub(x, b.reshape(in.get(3), bc)), inv), gamma), beta));
            }
            Normalized n = Normalized.of(b, x, statisticsAxes(s), eps);
            Value y = b.add(b.mul(n.xhat(), gamma), beta);
            Value keep = b.scalar(1 - momentum, x), take = b.scalar(momentum, x);
            Value newMean = b.add(b.mul(in.get(3), keep), b.mul(b.reshape(n.mean(), c), take));
            Value unbiased = b.mul(b.reshape(n.var(), c), b.scalar(n.count() / (n.count() - 1.0), x));
            Value newVar = b.add(b.mul(in.get(4), keep), b.mul(unbiased, take));
            return List.of(y, newMean, newVar);
        }

        /** The axes the statistics reduce over: every axis but the channel axis 1. */
        public static List<Integer> statisticsAxes(Shape s) {
            List<Integer> over = new java.util.ArrayList<>();
            for (int i = 0; i < s.rank(); i++) if (i != 1) over.add(i);
            return over;
        }

        /** [1, c, 1, ...]: a per-channel vector shaped to broadcast against x. */
        public static Shape perChannel(Shape s) {
            int[] kept = new int[s.rank()];
            java.util.Arrays.fill(kept, 1);
            kept[1] = s.dim(1);
            return Shape.of(kept);
        }
    }

    /**
     * Scaled dot-product attention over batches of matrices: q[b, t, d], k[b, s, d], v[b, s, e] to
     * {@code softmax(q k^T * scale) v} of shape [b, t, e]; causal hides key j from query i when
     * j > i. One op, so a plugin can keep the [b, t, s] scores out of memory or in fewer passes.
     */
    record Attention(boolean causal, double scale) implements Composite {
        /** What a masked score becomes: exp underflows to exactly 0, and no NaN can appear. */
        public static final double MASKED = -1e9;

        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            TensorType q = in.get(0), k = in.get(1), v = in.get(2);
            if (!q.dtype().isFloating() || k.dtype() != q.dtype() || v.dtype() != q.dtype()) throw error("needs q, k, v of one floating dtype", in);
            if (q.shape().rank() != 3 || k.shape().rank() != 3 || v.shape().rank() != 3) throw error("needs q[b, t, d], k[b, s, d], v[b, s, e]", in);
            if (k.shape().dim(0) != q.shape().dim(0) || v.shape().dim(0) != q.shape().dim(0) || k.shape().dim(2) != q.shape().dim(2)
                    || v.shape().dim(1) != k.shape().dim(1)) {
                throw error("q[b, t, d], k[b, s, d] and v[b, s, e] disagree", in);
            }
            return List.of(new TensorType(q.dtype(), Shape.of(q.shape().dim(0), q.shape().dim(1), v.shape().dim(2))));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            return List.of(b.matmul(probabilities(b, in.get(0), in.get(1)), in.get(2), false, false));
        }

        /** {@code softmax(q k^T * scale)} with the causal mask: [b, t, s]. */
        Value probabilities(Graph.Builder b, Value q, Value k) {
            Value s = b.mul(b.matmul(q, k, false, true), b.scalar(scale, q));
            if (causal) {
                int t = q.type().shape().dim(1), n = k.type().shape().dim(1);
                TensorType grid = new TensorType(DType.I32, Shape.of(t, n));
                Value later = b.binary(BinaryFn.GT, b.apply1(new Primitive.Iota(1, grid)), b.apply1(new Primitive.Iota(0, grid)));
                s = b.where(later, b.scalar(MASKED, s), s);
            }
            return b.apply1(new Softmax(2), s);
        }
    }

    /**
     * The backward of {@link Attention}: inputs q, k, v and the output's gradient; outputs dq, dk,
     * dv. The probabilities are recomputed, as flash attention does, so the forward keeps nothing.
     */
    record AttentionGrad(boolean causal, double scale) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 4);
            TensorType o = new Attention(causal, scale).infer(in.subList(0, 3)).getFirst();
            if (!in.get(3).equals(o)) throw error("the output's gradient must be " + o, in);
            return List.of(in.get(0), in.get(1), in.get(2));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value q = in.get(0), k = in.get(1), v = in.get(2), dO = in.get(3);
            Value p = new Attention(causal, scale).probabilities(b, q, k);
            Value dv = b.matmul(p, dO, true, false);
            Value dp = b.matmul(dO, v, false, true);
            Value ds = b.mul(b.mul(p, b.sub(dp, b.sum(b.mul(dp, p), List.of(2), true))), b.scalar(scale, q));
            return List.of(b.matmul(ds, k, false, false), b.matmul(ds, q, true, false), dv);
        }
    }

    /**
     * The backward of a training-mode {@link BatchNorm}: inputs x, gamma and the output's gradient
     * dy; outputs dx, dgamma, dbeta. The batch statistics are recomputed from x. (The running
     * statistics have no gradient, and evaluation mode differentiates through its decomposition.)
     */
    record BatchNormGrad(double eps) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            TensorType x = in.getFirst();
            if (x.shape().rank() < 2 || !x.dtype().isFloating()) throw error("needs floating x[n, c, ...]", in);
            TensorType stat = new TensorType(x.dtype(), Shape.of(x.shape().dim(1)));
            if (!in.get(1).equals(stat) || !in.get(2).equals(x)) throw error("needs x, gamma " + stat + " and dy " + x, in);
            return List.of(x, stat, stat);
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.get(0), dy = in.get(2);
            Shape s = x.type().shape(), c = Shape.of(s.dim(1));
            List<Integer> over = BatchNorm.statisticsAxes(s);
            Normalized n = Normalized.of(b, x, over, eps);
            Value dx = n.inputGrad(b, b.mul(dy, b.reshape(in.get(1), BatchNorm.perChannel(s))));
            return List.of(dx, b.reshape(b.sum(b.mul(dy, n.xhat()), over, true), c), b.reshape(b.sum(dy, over, true), c));
        }
    }

    /**
     * Layer normalisation over the last {@code axes} axes of x, inputs x, gamma and beta shaped as
     * those axes: {@code (x - mean) / sqrt(var + eps) * gamma + beta} with the biased variance.
     */
    record LayerNorm(int axes, double eps) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            TensorType x = in.getFirst();
            if (!in.get(1).equals(params(x, in)) || !in.get(2).equals(params(x, in))) throw error("gamma and beta must be " + params(x, in), in);
            return List.of(x);
        }

        /** The type of gamma and beta: x's trailing {@code axes} dims. */
        TensorType params(TensorType x, List<TensorType> in) {
            int r = x.shape().rank();
            if (axes < 1 || axes > r || !x.dtype().isFloating()) throw error("needs floating x of rank >= " + Math.max(1, axes), in);
            return new TensorType(x.dtype(), Shape.of(java.util.Arrays.copyOfRange(x.shape().dims(), r - axes, r)));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Normalized n = Normalized.of(b, in.get(0), trailing(in.get(0), axes), eps);
            return List.of(b.add(b.mul(n.xhat(), in.get(1)), in.get(2)));
        }

        static List<Integer> trailing(Value x, int axes) {
            List<Integer> over = new java.util.ArrayList<>();
            for (int i = x.type().shape().rank() - axes; i < x.type().shape().rank(); i++) over.add(i);
            return over;
        }
    }

    /**
     * The backward of {@link LayerNorm}: inputs x, gamma and the output's gradient dy; outputs dx,
     * dgamma, dbeta. The statistics are recomputed from x (as fused kernels do), so the forward
     * keeps nothing for the backward. With {@code g = dy * gamma} and {@code n} the normalised size,
     * {@code dx = inv * (g - mean(g) - xhat * mean(g * xhat))}.
     */
    record LayerNormGrad(int axes, double eps) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            TensorType x = in.getFirst(), p = new LayerNorm(axes, eps).params(x, in);
            if (!in.get(1).equals(p) || !in.get(2).equals(x)) throw error("needs x, gamma " + p + " and dy " + x, in);
            return List.of(x, p, p);
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value x = in.get(0), dy = in.get(2);
            Normalized n = Normalized.of(b, x, LayerNorm.trailing(x, axes), eps);
            List<Integer> lead = new java.util.ArrayList<>();
            for (int i = 0; i < x.type().shape().rank() - axes; i++) lead.add(i);
            Value dyXhat = b.mul(dy, n.xhat());
            Value dx = n.inputGrad(b, b.mul(dy, in.get(1)));
            return List.of(dx, lead.isEmpty() ? dyXhat : b.sum(dyXhat, lead, false), lead.isEmpty() ? dy : b.sum(dy, lead, false));
        }
    }

    /**
     * One SGD step as PyTorch defines it (dampening 0): inputs param, grad, velocity, lr (scalar);
     * outputs param', velocity'.
     */
    record SgdUpdate(double momentum, boolean nesterov, double weightDecay) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 4);
            if (!in.get(1).equals(in.get(0)) || !in.get(2).equals(in.get(0))) throw error("param, grad and velocity must agree", in);
            return List.of(in.get(0), in.get(0));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value p = in.get(0), g = in.get(1), v = in.get(2), lr = in.get(3);
            if (weightDecay != 0) g = b.add(g, b.mul(p, b.scalar(weightDecay, p)));
            Value v2 = momentum == 0 ? g : b.add(b.mul(v, b.scalar(momentum, v)), g);
            Value step = nesterov ? b.add(g, b.mul(v2, b.scalar(momentum, v2))) : v2;
            return List.of(b.sub(p, b.mul(step, lr)), v2);
        }
    }

    /**
     * One Adam step as PyTorch defines it; {@code decoupled} weight decay makes it AdamW. Inputs
     * param, grad, m, v, lr (scalar), step (scalar, counting from 1); outputs param', m', v'.
     * The step's scalars, {@code lr / (1 - beta1^t)}, {@code sqrt(1 - beta2^t)} and AdamW's
     * {@code 1 - lr * weightDecay}, are computed in float64 and rounded once to the parameter's
     * type, as PyTorch computes them in Python floats: in float32, with beta2 rounded to float32
     * first, {@code 1 - beta2^t} is off by 1e-5 of itself in the first steps, and the weights
     * drift from PyTorch's by a few 1e-6 within 20 steps. The rest follows torch.optim.Adam's
     * single-tensor loop op by op: {@code p - step_size * m' / (sqrt(v') / sqrt(1 - beta2^t) + eps)}.
     */
    record AdamUpdate(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) implements Composite {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 6);
            for (int i = 1; i < 4; i++) if (!in.get(i).equals(in.get(0))) throw error("param, grad, m and v must agree", in);
            return List.of(in.get(0), in.get(0), in.get(0));
        }

        public List<Value> decompose(Graph.Builder b, List<Value> in) {
            Value p = in.get(0), g = in.get(1), m = in.get(2), v = in.get(3);
            Value lr = b.cast(in.get(4), DType.F64), t = b.cast(in.get(5), DType.F64);
            DType d = p.type().dtype();
            if (weightDecay != 0 && decoupled) p = b.mul(p, b.cast(b.sub(b.scalar(1, lr), b.mul(lr, b.scalar(weightDecay, lr))), d));
            if (weightDecay != 0 && !decoupled) g = b.add(g, b.mul(p, b.scalar(weightDecay, p)));
            Value m2 = b.add(b.mul(m, b.scalar(beta1, m)), b.mul(g, b.scalar(1 - beta1, g)));
            Value v2 = b.add(b.mul(v, b.scalar(beta2, v)), b.mul(b.mul(g, b.scalar(1 - beta2, g)), g));
            Value stepSize = b.cast(b.div(lr, b.sub(b.scalar(1, t), b.binary(BinaryFn.POW, b.scalar(beta1, t), t))), d);
            Value c2Sqrt = b.cast(b.unary(UnaryFn.SQRT, b.sub(b.scalar(1, t), b.binary(BinaryFn.POW, b.scalar(beta2, t), t))), d);
            Value denom = b.add(b.div(b.unary(UnaryFn.SQRT, v2), c2Sqrt), b.scalar(eps, v2));
            return List.of(b.sub(p, b.div(b.mul(m2, stepSize), denom)), m2, v2);
        }
    }
}
