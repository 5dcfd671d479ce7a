package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.TensorType;
import java.util.List;

/**
 * {@link Composite.Attention} that also outputs the row log-sum-exp of its scores, lse[b, t] in
 * the compute type (base 2, in units of {@code scale * log2(e)} scores), for a paired
 * {@link CudaAttentionGradLse} to recompute the probabilities from ({@link CudaAttentionPairing}).
 */
record CudaAttentionLse(Composite.Attention attention) implements Fused {
    @Override public List<TensorType> infer(List<TensorType> in) {
        TensorType o = attention.infer(in).getFirst();
        return List.of(o, lse(o));
    }

    /** lse of an attention output o[b, t, e]. */
    static TensorType lse(TensorType o) {
        return new TensorType(o.dtype() == DType.F64 ? DType.F64 : DType.F32, Shape.of(o.shape().dim(0), o.shape().dim(1)));
    }

    @Override public String opName() { return "attention_lse"; }
}
