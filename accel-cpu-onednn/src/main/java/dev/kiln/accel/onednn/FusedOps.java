package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Window2d;
import java.util.List;
import java.util.Locale;

/** The ops {@link OneDnnFusion} builds; each replaces nodes that remain its definition (checked by the conformance kit with fusion off). */
final class FusedOps {
    private FusedOps() {}

    /** {@code act(op(a) @ op(b) + bias)} on rank-2 f32 operands, bias [n]: one oneDNN matmul with a bias and a post-op. */
    record MatMulBias(boolean transA, boolean transB, Activation activation) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            Shape a = in.get(0).shape(), b = in.get(1).shape();
            if (a.rank() != 2 || b.rank() != 2) throw error("needs rank-2 operands", in);
            int m = transA ? a.dim(1) : a.dim(0), n = transB ? b.dim(0) : b.dim(1);
            if ((transA ? a.dim(0) : a.dim(1)) != (transB ? b.dim(1) : b.dim(0))) throw error("inner dimensions differ", in);
            if (in.get(2).shape().size() != n) throw error("bias must have " + n + " elements", in);
            return List.of(new TensorType(in.get(0).dtype(), Shape.of(m, n)));
        }

        @Override public String opName() { return "matmul_bias_" + activation.name().toLowerCase(java.util.Locale.ROOT); }
    }

    /**
     * {@code act(op(a) @ op(b) [+ bias])} on bf16 or f16 operands (a bias of their type, n
     * elements), accumulated and returned in f32: a mixed-precision contraction and its cast back
     * to f32 (Autocast's pattern) as one oneDNN matmul. It rounds once fewer than the nodes it
     * replaces, which round the product to the operands' type before the cast; the activation
     * is then applied to the f32 result, as those nodes apply it after their cast.
     */
    record LowMatMul(boolean transA, boolean transB, boolean bias, Activation activation) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, bias ? 3 : 2);
            Shape a = in.get(0).shape(), b = in.get(1).shape();
            DType t = in.get(0).dtype();
            if (t != DType.BF16 && t != DType.F16) throw error("takes bf16 or f16 operands", in);
            for (TensorType x : in) if (x.dtype() != t) throw error("operands and bias must share one type", in);
            if (a.rank() != 2 || b.rank() != 2) throw error("needs rank-2 operands", in);
            int m = transA ? a.dim(1) : a.dim(0), n = transB ? b.dim(0) : b.dim(1);
            if ((transA ? a.dim(0) : a.dim(1)) != (transB ? b.dim(1) : b.dim(0))) throw error("inner dimensions differ", in);
            if (bias && in.get(2).shape().size() != n) throw error("bias must have " + n + " elements", in);
            return List.of(new TensorType(DType.F32, Shape.of(m, n)));
        }

        @Override public String opName() {
            return "lowmatmul" + (bias ? "_bias_" : "_") + activation.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * An elementwise expression over f32 inputs evaluated in one pass, each input read per its
     * {@link ChainExpr.Layout}; with {@code sums} non-null it also outputs the sum over axis 0 of its
     * rank-2 result, shaped {@code sums} (an activation gradient and its bias gradient in one pass).
     */
    record Chain(ChainExpr expr, List<ChainExpr.Layout> layouts, TensorType out, Shape sums) implements Fused {
        public Chain {
            layouts = List.copyOf(layouts);
        }

        public List<TensorType> infer(List<TensorType> in) {
            arity(in, layouts.size());
            for (TensorType t : in) if (t.dtype() != DType.F32 && t.dtype() != DType.BOOL) throw error("takes f32 and bool inputs", in);
            if (sums == null) return List.of(out);
            if (out.shape().rank() != 2 || sums.size() != out.shape().dim(1)) throw error("column sums need a rank-2 result", in);
            return List.of(out, new TensorType(out.dtype(), sums));
        }

        @Override public String opName() { return "chain" + (sums != null ? "_colsum" : "") + "[" + expr + "]"; }
    }

    /** {@code act(conv2d(x, w) + b)}, b[o] per output channel: one oneDNN convolution with a bias and a post-op. */
    record ConvBias(Window2d window, int groups, Activation activation) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 3);
            TensorType y = new Primitive.Conv2d(window, groups).infer(in.subList(0, 2)).getFirst();
            if (!in.get(2).equals(y.withShape(Shape.of(y.shape().dim(1))))) throw error("bias must be " + y.withShape(Shape.of(y.shape().dim(1))), in);
            return List.of(y);
        }

        @Override public String opName() { return "conv2d_bias_" + activation.name().toLowerCase(Locale.ROOT); }
    }

    /** A convolution's weight gradient and its bias gradient (dy summed over n, h, w): inputs x and dy, outputs dw and db[o], one oneDNN call. */
    record ConvWeightsBias(Window2d window, int groups, Shape weight) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            TensorType dw = new Primitive.Conv2dBackwardWeights(window, groups, weight).infer(in).getFirst();
            return List.of(dw, dw.withShape(Shape.of(weight.dim(0))));
        }

        @Override public String opName() { return "conv2dbackwardweights_bias"; }
    }

    /**
     * Max pooling for training: y, and oneDNN's workspace of y's shape, one byte per output (where
     * in its window the maximum was), which {@link MaxPoolGrad} reads instead of searching again.
     */
    record MaxPoolTrain(Window2d window) implements Fused {
        /** oneDNN keeps a window position in a byte while the window has fewer than 256 positions. */
        static boolean fits(Window2d w) { return w.kernelH() * w.kernelW() < 256; }

        public List<TensorType> infer(List<TensorType> in) {
            if (!fits(window)) throw error("windows of 256 positions or more need a wider workspace, got " + window, in);
            TensorType y = new Composite.MaxPool2d(window).infer(in).getFirst();
            return List.of(y, new TensorType(DType.I8, y.shape()));
        }

        @Override public String opName() { return "maxpool2d_train"; }
    }

    /** The gradient of max pooling: inputs {@link MaxPoolTrain}'s workspace and dy; output dx of the pooled input's shape. */
    record MaxPoolGrad(Window2d window, Shape input) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 2);
            TensorType dy = in.get(1);
            if (!dy.equals(new Composite.MaxPool2d(window).infer(List.of(dy.withShape(input))).getFirst()) || !in.get(0).shape().equals(dy.shape())) {
                throw error("needs a workspace and dy of the pooled shape of " + input, in);
            }
            return List.of(dy.withShape(input));
        }

        @Override public String opName() { return "maxpool2d_grad"; }
    }

    /** The gradient of average pooling (padding counted in the divisor): dy to dx of the pooled input's shape. */
    record AvgPoolGrad(Window2d window, Shape input) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (!in.getFirst().equals(new Composite.AvgPool2d(window).infer(List.of(in.getFirst().withShape(input))).getFirst())) {
                throw error("needs dy of the pooled shape of " + input, in);
            }
            return List.of(in.getFirst().withShape(input));
        }

        @Override public String opName() { return "avgpool2d_grad"; }
    }

    /** Training batch norm that also outputs the batch mean and biased variance [c], for {@link BatchNormTrainGrad}. */
    record BatchNormTrain(double momentum, double eps) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            List<TensorType> out = new java.util.ArrayList<>(new Composite.BatchNorm(true, momentum, eps).infer(in));
            out.add(out.get(1));
            out.add(out.get(1));
            return out;
        }

        @Override public String opName() { return "batchnorm_train"; }
    }

    /** The batch-norm gradient from the forward's batch statistics: inputs x, gamma, mean, variance and dy; outputs dx, dgamma, dbeta. */
    record BatchNormTrainGrad(double eps) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 5);
            if (!in.get(2).equals(in.get(1)) || !in.get(3).equals(in.get(1))) throw error("mean and variance must be " + in.get(1), in);
            return new Composite.BatchNormGrad(eps).infer(List.of(in.get(0), in.get(1), in.get(4)));
        }

        @Override public String opName() { return "batchnorm_train_grad"; }
    }

    /**
     * {@code op} run on operands in the given {@link MemoryFormat}s, one per input then one per
     * output, as {@link MemoryFormats} placed them: the same values, laid out for oneDNN.
     */
    record Formatted(Op op, List<MemoryFormat> formats) implements Fused {
        public Formatted {
            formats = List.copyOf(formats);
        }

        public List<TensorType> infer(List<TensorType> in) { return op.infer(in); }

        @Override public String opName() { return op.opName(); }

        /** The format of operand {@code i}, counting the inputs first. */
        MemoryFormat format(int i) { return formats.get(i); }
    }

    /** The same tensor in another memory format (a oneDNN reorder). */
    record Reformat(MemoryFormat from, MemoryFormat to) implements Fused {
        public List<TensorType> infer(List<TensorType> in) {
            arity(in, 1);
            if (!MemoryFormat.blockable(in.getFirst())) throw error("only 4-D f32 tensors of whole channel blocks change format", in);
            return in;
        }

        @Override public String opName() { return "reformat_" + from.label() + "_" + to.label(); }
    }
}
