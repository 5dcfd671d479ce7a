package dev.kiln.api.nn;

import dev.kiln.api.Tensor;

/** The logistic function {@code 1 / (1 + exp(-x))}. */
public final class Sigmoid extends Module {
    @Override public Tensor forward(Tensor x) { return x.sigmoid(); }
    @Override public LayerConfig config() { return LayerConfig.of("Sigmoid"); }

}
