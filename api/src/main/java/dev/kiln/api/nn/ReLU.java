package dev.kiln.api.nn;

import dev.kiln.api.Tensor;

/** {@code max(x, 0)}. */
public final class ReLU extends Module {
    @Override public Tensor forward(Tensor x) { return x.relu(); }
    @Override public LayerConfig config() { return LayerConfig.of("ReLU"); }

}
