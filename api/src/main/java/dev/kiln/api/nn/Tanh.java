package dev.kiln.api.nn;

import dev.kiln.api.Tensor;

/** Hyperbolic tangent. */
public final class Tanh extends Module {
    @Override public Tensor forward(Tensor x) { return x.tanh(); }
    @Override public LayerConfig config() { return LayerConfig.of("Tanh"); }

}
