package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.TensorType;
import java.util.List;

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
}
