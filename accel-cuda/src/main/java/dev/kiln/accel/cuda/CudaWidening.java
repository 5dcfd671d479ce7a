package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import java.util.List;

/**
 * A half-precision contraction whose result is only ever cast up, written by cuBLASLt straight
 * into the wider type: under a mixed policy autocast emits {@code cast(matmul(bf16, bf16), f32)},
 * and this saves the bf16 intermediate and the pass that widens it. The accumulation is f32 either
 * way, so the result only differs by the bf16 rounding it no longer has.
 */
record CudaWidening(Op contraction, DType out) implements Fused {
    CudaWidening {
        if (!(contraction instanceof Primitive.MatMul || contraction instanceof Composite.Linear)) {
            throw new IllegalArgumentException("widening wraps a matmul or linear, not " + contraction.opName());
        }
    }

    @Override public List<TensorType> infer(List<TensorType> in) {
        TensorType narrow = contraction.infer(in).getFirst();
        return List.of(new TensorType(out, narrow.shape()));
    }

    @Override public String opName() { return "widening"; }

    @Override public String toString() { return "Widening[" + contraction + " -> " + out.label() + "]"; }
}
