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

    public LayerNorm(double eps, int... normalizedShape) {
        if (normalizedShape.length == 0 || Arrays.stream(normalizedShape).anyMatch(d -> d <= 0) || !(eps > 0)) {
            throw new IllegalArgumentException("LayerNorm needs a non-empty positive shape and eps > 0, got " + Arrays.toString(normalizedShape) + ", " + eps);
        }
        String name = "LayerNorm(" + Arrays.toString(normalizedShape) + ")";
        this.weight = Parameter.of(name, "weight", Parameter.Initializer.constant(1), normalizedShape);
        this.bias = Parameter.of(name, "bias", Parameter.Initializer.constant(0), normalizedShape);
        this.normalized = weight.shape();
        this.eps = eps;
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        int k = normalized.rank();
        if (s.rank() < k || !Shape.of(Arrays.copyOfRange(s.dims(), s.rank() - k, s.rank())).equals(normalized)) {
            throw new IllegalArgumentException(describe() + ": expected input ending in " + normalized + " but got " + s);
        }
        return Tensor.apply1(new Composite.LayerNorm(k, eps), x, weight.value(x.kiln()), bias.value(x.kiln()));
    }

    @Override protected Map<String, Parameter> ownParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", bias);
        return m;
    }

    @Override public String toString() { return "LayerNorm(" + normalized + ")"; }
}
