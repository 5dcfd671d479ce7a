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
 * into the wider type (a linear layer's bias is then in the wide type too): under a mixed policy autocast emits {@code cast(matmul(bf16, bf16), f32)},
 * and this saves the bf16 intermediate and the pass that widens it. The accumulation is f32 either
 * way, so the result only differs by the bf16 rounding it no longer has.
 */
record CudaWidening(Op contraction, DType out) implements Fused {
    CudaWidening {
        if (!(contraction instanceof Primitive.MatMul || contraction instanceof Composite.Linear)) {
            throw new IllegalArgumentException("widening wraps a matmul or linear, not " + contraction.opName());
        }
    }

    /** A widened linear layer's bias is already in the wide type; the rest is the contraction's own check. */
    @Override public List<TensorType> infer(List<TensorType> in) {
        TensorType narrow = contraction.infer(narrowed(in)).getFirst();
        return List.of(new TensorType(out, narrow.shape()));
    }

    /** The inputs as the wrapped contraction takes them: a linear bias in the operands' type. */
    List<TensorType> narrowed(List<TensorType> in) {
        if (!(contraction instanceof Composite.Linear) || in.size() != 3) return in;
        if (in.get(2).dtype() != out) throw error("a widened linear takes its bias as " + out.label(), in);
        return List.of(in.get(0), in.get(1), new TensorType(in.get(0).dtype(), in.get(2).shape()));
    }

    @Override public String opName() { return "widening"; }

    @Override public String toString() { return "Widening[" + contraction + " -> " + out.label() + "]"; }
}
