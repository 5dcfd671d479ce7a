package dev.kiln.api.nn;

import dev.kiln.api.Tensor;

/** Keeps the batch axis and flattens the rest: [n, 28, 28] becomes [n, 784]. */
public final class Flatten extends Module {
    @Override public Tensor forward(Tensor x) {
        if (x.shape().rank() < 1) throw new IllegalArgumentException(describe() + ": needs a batch axis, got a scalar");
        return x.shape().rank() == 1 ? x.reshape(x.shape().dim(0), 1) : x.flatten();
    }
    @Override public LayerConfig config() { return LayerConfig.of("Flatten"); }

}
