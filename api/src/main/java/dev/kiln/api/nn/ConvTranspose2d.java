package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Window2d;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Transposed 2-D convolution as PyTorch's {@code ConvTranspose2d}: weight [in, out/groups, kh, kw],
 * optional bias [out], output size {@code (h - 1) stride - 2 padding + dilation (k - 1) +
 * outputPadding + 1}. It is the adjoint of the convolution with the same window, so it runs as the
 * IR's {@code Conv2dBackwardData} (every plugin has that kernel, and its gradients are a forward
 * convolution and {@code Conv2dBackwardWeights}). Initialised as PyTorch does: uniform in
 * +-1/sqrt(fan_in) with fan_in = out/groups * kh * kw, the weight's second axis.
 */
public final class ConvTranspose2d extends Module {
    private final int in, out, groups, outPadH, outPadW;
    private final Window2d window;
    private final Parameter weight, bias;

    /** Square kernel, stride 1, no padding, one group, with bias. */
    public ConvTranspose2d(int in, int out, int kernel) { this(in, out, kernel, 1, 0, 0); }

    public ConvTranspose2d(int in, int out, int kernel, int stride, int padding, int outputPadding) {
        this(in, out, new Window2d(kernel, kernel, stride, stride, padding, padding, 1, 1), outputPadding, outputPadding, 1, true);
    }

    private ConvTranspose2d(int in, int out, Window2d window, int outPadH, int outPadW, int groups, boolean bias) {
        if (in <= 0 || out <= 0 || groups <= 0 || in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("ConvTranspose2d needs positive channels divisible by groups, got " + in + " -> " + out + " in " + groups + " groups");
        }
        // PyTorch's rule: the extra rows must be fewer than the stride or the dilation, or they would be a whole window's worth.
        if (outPadH < 0 || outPadW < 0 || outPadH >= Math.max(window.strideH(), window.dilationH()) || outPadW >= Math.max(window.strideW(), window.dilationW())) {
            throw new IllegalArgumentException("ConvTranspose2d: output padding " + outPadH + "x" + outPadW + " must be non-negative and smaller than the stride or the dilation ("
                    + Conv2d.describe(window, groups) + ")");
        }
        this.in = in;
        this.out = out;
        this.groups = groups;
        this.window = window;
        this.outPadH = outPadH;
        this.outPadW = outPadW;
        double bound = 1 / Math.sqrt((double) out / groups * window.kernelH() * window.kernelW());
        this.weight = Parameter.of(toString(), "weight", Parameter.Initializer.uniform(bound), in, out / groups, window.kernelH(), window.kernelW());
        this.bias = bias ? Parameter.of(toString(), "bias", Parameter.Initializer.uniform(bound), out) : null;
    }

    /** For rectangular kernels, strides, padding, output padding or dilation, and groups. */
    public static Builder builder(int in, int out) { return new Builder(in, out); }

    /** Options of a {@link ConvTranspose2d}: see {@link ConvOptions}, and the output padding (none by default). */
    public static final class Builder extends ConvOptions<Builder> {
        private int oh, ow;

        private Builder(int in, int out) { super(in, out); }

        public Builder outputPadding(int h, int w) { oh = h; ow = w; return this; }

        public ConvTranspose2d build() { return new ConvTranspose2d(in, out, window("ConvTranspose2d"), oh, ow, groups, bias); }
    }

    /** The output height for input height {@code h}: PyTorch's formula. */
    public int outputHeight(int h) {
        return Math.addExact(Math.subtractExact(Math.multiplyExact(h - 1, window.strideH()), 2 * window.padH()),
                window.dilationH() * (window.kernelH() - 1) + outPadH + 1);
    }

    public int outputWidth(int w) {
        return Math.addExact(Math.subtractExact(Math.multiplyExact(w - 1, window.strideW()), 2 * window.padW()),
                window.dilationW() * (window.kernelW() - 1) + outPadW + 1);
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 4 || s.dim(1) != in) {
            throw new IllegalArgumentException(describe() + ": expected input of shape [batch, " + in + ", height, width] but got " + s);
        }
        int h = outputHeight(s.dim(2)), w = outputWidth(s.dim(3));
        if (h < 1 || w < 1) throw new IllegalArgumentException(describe() + ": input " + s + " gives an empty output (" + h + "x" + w + ")");
        Shape output = Shape.of(s.dim(0), out, h, w);
        Tensor y = Tensor.apply1(new Primitive.Conv2dBackwardData(window, groups, output), x, weight.value(x.kiln()));
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
        return LayerConfig.of("ConvTranspose2d", "in", in, "out", out, "kernel", new int[] {window.kernelH(), window.kernelW()},
                "stride", new int[] {window.strideH(), window.strideW()}, "padding", new int[] {window.padH(), window.padW()},
                "dilation", new int[] {window.dilationH(), window.dilationW()}, "output_padding", new int[] {outPadH, outPadW},
                "groups", groups, "bias", bias != null);
    }

    @Override public String toString() {
        return "ConvTranspose2d(" + in + " -> " + out + ", " + Conv2d.describe(window, groups)
                + (outPadH != 0 || outPadW != 0 ? ", output padding " + (outPadH == outPadW ? Integer.toString(outPadH) : outPadH + "x" + outPadW) : "") + ")";
    }
}
