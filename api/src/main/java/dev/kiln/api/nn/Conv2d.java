package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Window2d;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * 2-D convolution over x[batch, in, h, w] as PyTorch's {@code Conv2d}: weight [out, in/groups,
 * kh, kw], optional bias [out], initialised as PyTorch does (Kaiming uniform with a = sqrt(5), which
 * comes to uniform in +-1/sqrt(fan_in) for both, fan_in = in/groups * kh * kw).
 */
public final class Conv2d extends Module {
    private final int in, out, groups;
    private final Window2d window;
    private final Parameter weight, bias;

    /** Stride 1, no padding, no dilation, one group, with bias. */
    public Conv2d(int in, int out, int kernel) { this(in, out, kernel, 1, 0, 1, 1, true); }

    public Conv2d(int in, int out, int kernel, int stride, int padding) { this(in, out, kernel, stride, padding, 1, 1, true); }

    public Conv2d(int in, int out, int kernel, int stride, int padding, int dilation, int groups, boolean bias) {
        this(in, out, new Window2d(kernel, kernel, stride, stride, padding, padding, dilation, dilation), groups, bias);
    }

    private Conv2d(int in, int out, Window2d window, int groups, boolean bias) {
        if (in <= 0 || out <= 0 || groups <= 0 || in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv2d needs positive channels divisible by groups, got " + in + " -> " + out + " in " + groups + " groups");
        }
        this.in = in;
        this.out = out;
        this.groups = groups;
        this.window = window;
        double bound = 1 / Math.sqrt((double) in / groups * window.kernelH() * window.kernelW());
        this.weight = Parameter.of(toString(), "weight", Parameter.Initializer.uniform(bound), out, in / groups, window.kernelH(), window.kernelW());
        this.bias = bias ? Parameter.of(toString(), "bias", Parameter.Initializer.uniform(bound), out) : null;
    }

    /** For rectangular kernels, strides, padding or dilation, as PyTorch's tuple arguments: {@code Conv2d.builder(3, 16).kernel(3, 5).stride(1, 2).build()}. */
    public static Builder builder(int in, int out) { return new Builder(in, out); }

    /** Options of a {@link Conv2d}: see {@link ConvOptions}. */
    public static final class Builder extends ConvOptions<Builder> {
        private Builder(int in, int out) { super(in, out); }

        public Conv2d build() { return new Conv2d(in, out, window("Conv2d"), groups, bias); }
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
        return bias == null ? y : ChannelBias.add(y, bias);
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

    @Override public LayerConfig config() {
        return LayerConfig.of("Conv2d", "in", in, "out", out, "kernel", new int[] {window.kernelH(), window.kernelW()},
                "stride", new int[] {window.strideH(), window.strideW()}, "padding", new int[] {window.padH(), window.padW()},
                "dilation", new int[] {window.dilationH(), window.dilationW()}, "groups", groups, "bias", bias != null);
    }

    @Override public String toString() { return "Conv2d(" + in + " -> " + out + ", " + describe(window, groups) + ")"; }

    /** {@code 3x3, stride 2, padding 1}: square settings as one number, rectangular ones as two. */
    static String describe(Window2d w, int groups) {
        return w.kernelH() + "x" + w.kernelW() + pair("stride", w.strideH(), w.strideW(), 1) + pair("padding", w.padH(), w.padW(), 0)
                + pair("dilation", w.dilationH(), w.dilationW(), 1) + (groups != 1 ? ", groups " + groups : "");
    }

    private static String pair(String name, int h, int w, int unset) {
        if (h == unset && w == unset) return "";
        return ", " + name + " " + (h == w ? Integer.toString(h) : h + "x" + w);
    }
}
