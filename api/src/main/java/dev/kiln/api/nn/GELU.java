package dev.kiln.api.nn;

import dev.kiln.api.Tensor;

/** GELU in its tanh form, PyTorch's {@code GELU(approximate='tanh')} (GPT-2's activation). */
public final class GELU extends Module {
    @Override public Tensor forward(Tensor x) { return x.gelu(); }
}
