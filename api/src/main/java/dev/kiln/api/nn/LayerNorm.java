package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Layer normalisation over the trailing {@code normalizedShape} axes, as PyTorch's
 * {@code LayerNorm}: scale initialised to one, shift to zero.
 */
public final class LayerNorm extends Module {
    private final Shape normalized;
    private final double eps;
    private final Parameter weight, bias;

    public LayerNorm(int... normalizedShape) { this(1e-5, normalizedShape); }

    public LayerNorm(double eps, int... normalizedShape) { this(eps, true, normalizedShape); }

    /** {@code elementwiseAffine = false}: no weight or bias, as PyTorch's {@code LayerNorm(..., elementwise_affine=False)}. */
    public LayerNorm(double eps, boolean elementwiseAffine, int... normalizedShape) {
        if (normalizedShape.length == 0 || Arrays.stream(normalizedShape).anyMatch(d -> d <= 0) || !(eps > 0)) {
            throw new IllegalArgumentException("LayerNorm needs a non-empty positive shape and eps > 0, got " + Arrays.toString(normalizedShape) + ", " + eps);
        }
        String name = "LayerNorm(" + Arrays.toString(normalizedShape) + ")";
        this.weight = elementwiseAffine ? Parameter.of(name, "weight", Parameter.Initializer.constant(1), normalizedShape) : null;
        this.bias = elementwiseAffine ? Parameter.of(name, "bias", Parameter.Initializer.constant(0), normalizedShape) : null;
        this.normalized = Shape.of(normalizedShape);
        this.eps = eps;
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        int k = normalized.rank();
        if (s.rank() < k || !Shape.of(Arrays.copyOfRange(s.dims(), s.rank() - k, s.rank())).equals(normalized)) {
            throw new IllegalArgumentException(describe() + ": expected input ending in " + normalized + " but got " + s);
        }
        // Without affine parameters the composite gets constant ones and zeros, so plugins keep one kernel for both.
        Tensor w = weight != null ? weight.value(x.kiln()) : x.scalarLike(1).broadcastTo(normalized.dims());
        Tensor b = bias != null ? bias.value(x.kiln()) : x.scalarLike(0).broadcastTo(normalized.dims());
        return Tensor.apply1(new Composite.LayerNorm(k, eps), x, w, b);
    }

    @Override protected Map<String, Parameter> ownParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        if (weight != null) m.put("weight", weight);
        if (bias != null) m.put("bias", bias);
        return m;
    }

    @Override public LayerConfig config() {
        return LayerConfig.of("LayerNorm", "normalized_shape", normalized.dims(), "eps", eps, "elementwise_affine", weight != null);
    }

    @Override public String toString() { return "LayerNorm(" + normalized + ")"; }
}
