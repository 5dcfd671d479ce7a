package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.DType;
import java.util.Map;

/**
 * A lookup table: integer indices of any shape give their rows of weight [count, dim], appended as
 * a last axis, as PyTorch's {@code Embedding} (weights normal with std 1). The gradient of the
 * lookup (a gather) is a scatter-add into the rows used.
 */
public final class Embedding extends Module {
    private final int count, dim;
    private final Parameter weight;

    public Embedding(int count, int dim) {
        if (count <= 0 || dim <= 0) throw new IllegalArgumentException("Embedding needs positive sizes, got " + count + " x " + dim);
        this.count = count;
        this.dim = dim;
        this.weight = Parameter.of(toString(), "weight", Parameter.Initializer.normal(1), count, dim);
    }

    @Override public Tensor forward(Tensor indices) {
        if (indices.dtype() != DType.I32 && indices.dtype() != DType.I64) {
            throw new IllegalArgumentException(describe() + ": expected i32 or i64 indices but got " + indices.dtype().label() + indices.shape());
        }
        return weight.value(indices.kiln()).gather(0, indices);
    }

    public Parameter weight() { return weight; }

    @Override protected Map<String, Parameter> ownParameters() { return Map.of("weight", weight); }

    @Override public LayerConfig config() { return LayerConfig.of("Embedding", "count", count, "dim", dim); }

    @Override public String toString() { return "Embedding(" + count + ", " + dim + ")"; }
}
