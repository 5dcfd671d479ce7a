package dev.kiln.api.nn;

import dev.kiln.api.Tensor;

/**
 * GELU, as PyTorch's {@code nn.GELU(approximate=...)}: exact ({@code x/2 (1 + erf(x / sqrt 2))}) by
 * default, as in PyTorch and Keras, or the tanh form of GPT-2 with {@link Approximate#TANH}, which
 * plugins fuse into a preceding linear layer.
 */
public final class GELU extends Module {
    /** PyTorch's {@code approximate} argument. */
    public enum Approximate { NONE, TANH }

    private final Approximate approximate;

    /** Exact GELU. */
    public GELU() { this(Approximate.NONE); }

    public GELU(Approximate approximate) { this.approximate = java.util.Objects.requireNonNull(approximate, "approximate"); }

    public Approximate approximate() { return approximate; }

    @Override public Tensor forward(Tensor x) { return approximate == Approximate.TANH ? x.geluTanh() : x.gelu(); }
    @Override public LayerConfig config() { return LayerConfig.of("GELU", "approximate", approximate.name()); }

}
