package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import java.util.List;

/** {@code x + inner(x)}: a residual (skip) connection around a block that keeps the shape. */
public final class Residual extends Module {
    private final Module inner;

    public Residual(Module inner) {
        this.inner = inner;
        inner.setPath("0");
    }

    @Override public Tensor forward(Tensor x) {
        Tensor y = inner.forward(x);
        if (!y.shape().equals(x.shape())) {
            throw new IllegalArgumentException(describe() + ": the inner block maps " + x.shape() + " to " + y.shape() + "; a residual needs the same shape");
        }
        return x.add(y);
    }

    @Override public List<Module> children() { return List.of(inner); }

    @Override public LayerConfig config() { return LayerConfig.withChildren("Residual", childConfigs()); }

    @Override public String toString() { return "Residual(" + inner + ")"; }
}
