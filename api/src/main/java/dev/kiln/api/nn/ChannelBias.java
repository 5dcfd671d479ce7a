package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.api.internal.Internal;

/** A convolution's per-channel bias added to its output y[n, c, h, w]. */
final class ChannelBias {
    private ChannelBias() {}

    /**
     * {@code y + bias} broadcast over axis 1. The bias is read inside y's trace before it is
     * reshaped: reshaping the concrete parameter would run eagerly, and the compiled step would
     * capture the result as a constant that never gets a gradient.
     */
    static Tensor add(Tensor y, Parameter bias) {
        Tensor b = Internal.access().capture(bias.value(y.kiln()), y);
        return y.add(b.reshape(1, y.shape().dim(1), 1, 1));
    }
}
