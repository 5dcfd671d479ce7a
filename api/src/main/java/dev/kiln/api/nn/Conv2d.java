package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Window2d;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * 2-D convolution over x[batch, in, h, w] as PyTorch's {@code Conv2d}: weight [out, in/groups,
 * k, k], optional bias [out], initialised as PyTorch does (Kaiming uniform with a = sqrt(5), which
 * comes to uniform in +-1/sqrt(fan_in) for both, fan_in = in/groups * k * k).
 */
public final class Conv2d extends Module {
    private final int in, out, groups;
    private final Window2d window;
    private final Parameter weight, bias;

    /** Stride 1, no padding, no dilation, one group, with bias. */
    public Conv2d(int in, int out, int kernel) { this(in, out, kernel, 1, 0, 1, 1, true); }

    public Conv2d(int in, int out, int kernel, int stride, int padding) { this(in, out, kernel, stride, padding, 1, 1, true); }

    public Conv2d(int in, int out, int kernel, int stride, int padding, int dilation, int groups, boolean bias) {
        if (in <= 0 || out <= 0 || groups <= 0 || in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv2d needs positive channels divisible by groups, got " + in + " -> " + out + " in " + groups + " groups");
        }
        this.in = in;
        this.out = out;
        this.groups = groups;
        this.window = new Window2d(kernel, kernel, stride, stride, padding, padding, dilation, dilation);
        double bound = 1 / Math.sqrt((double) in / groups * kernel * kernel);
        this.weight = Parameter.of(toString(), "weight", Parameter.Initializer.uniform(bound), out, in / groups, kernel, kernel);
        this.bias = bias ? Parameter.of(toString(), "bias", Parameter.Initializer.uniform(bound), out) : null;
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 4 || s.dim(1) != in) {
            throw new IllegalArgumentException(describe() + ": expected input of shape [batch, " + in + ", height, width] but got " + s);
        }
        if (window.outH(s.dim(2)) < 1 || window.outW(s.dim(3)) < 1) {
            throw new IllegalArgumentException(describe() + ": input " + s + " is smaller than the kernel window " + window);
        }
        Tensor y = Tensor.apply1(new Primitive.Conv2d(window, groups), x, weight.value(x.kiln()));
        return bias == null ? y : y.add(bias.value(x.kiln()).reshape(1, out, 1, 1));
    }

    public Parameter weight() { return weight; }

    /** The bias, or null when built without one. */
    public Parameter bias() { return bias; }

    @Override protected Map<String, Parameter> ownParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("weight", weight);
        if (bias != null) m.put("bias", bias);
        return m;
    }

    @Override public String toString() {
        return "Conv2d(" + in + " -> " + out + ", " + window.kernelH() + "x" + window.kernelW()
                + (window.strideH() != 1 ? ", stride " + window.strideH() : "") + (window.padH() != 0 ? ", padding " + window.padH() : "")
                + (window.dilationH() != 1 ? ", dilation " + window.dilationH() : "") + (groups != 1 ? ", groups " + groups : "") + ")";
    }
}
