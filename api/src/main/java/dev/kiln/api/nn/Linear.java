package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite.Activation;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code y = x @ weight^T + bias} with weight [out, in] over the last axis of x (the others are
 * batch axes), initialised as PyTorch does:
 * uniform in +-1/sqrt(in) for both weight and bias.
 */
public final class Linear extends Module {
    private final int in, out;
    private final Parameter weight, bias;

    public Linear(int in, int out) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear needs positive sizes, got " + in + " -> " + out);
        this.in = in;
        this.out = out;
        double bound = 1 / Math.sqrt(in);
        this.weight = Parameter.of(toString(), "weight", Parameter.Initializer.uniform(bound), out, in);
        this.bias = Parameter.of(toString(), "bias", Parameter.Initializer.uniform(bound), out);
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() < 2 || s.dim(-1) != in) {
            throw new IllegalArgumentException(describe() + ": expected input of shape [batch, " + in + "] but got " + s
                    + (s.rank() > 2 && s.size() / s.dim(0) == in ? " (add a Flatten layer before it)" : ""));
        }
        if (s.rank() == 2) return x.linear(weight.value(x.kiln()), bias.value(x.kiln()), Activation.NONE);
        // As PyTorch: leading axes are batch axes, e.g. [batch, time, in] for a transformer's MLP.
        int[] d = s.dims();
        d[d.length - 1] = out;
        return x.reshape(-1, in).linear(weight.value(x.kiln()), bias.value(x.kiln()), Activation.NONE).reshape(d);
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    @Override protected Map<String, Parameter> ownParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", bias);
        return m;
    }

    @Override public LayerConfig config() { return LayerConfig.of("Linear", "in", in, "out", out); }

    @Override public String toString() { return "Linear(" + in + " -> " + out + ")"; }
}
