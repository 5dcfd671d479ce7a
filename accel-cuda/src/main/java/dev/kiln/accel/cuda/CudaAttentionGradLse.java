package dev.kiln.accel.cuda;

import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.TensorType;
import java.util.List;

/**
 * {@link Composite.AttentionGrad} reading what its forward kept: inputs q, k, v, the forward's
 * output o and row log-sum-exp lse ({@link CudaAttentionLse}), and dO; outputs dq, dk, dv.
 */
record CudaAttentionGradLse(Composite.AttentionGrad grad) implements Fused {
    @Override public List<TensorType> infer(List<TensorType> in) {
        arity(in, 6);
        List<TensorType> out = grad.infer(List.of(in.get(0), in.get(1), in.get(2), in.get(5)));
        if (!in.get(3).equals(in.get(5)) || !in.get(4).equals(CudaAttentionLse.lse(in.get(5)))) throw error("needs the forward's o and lse", in);
        return out;
    }

    @Override public String opName() { return "attentiongrad_lse"; }
}
