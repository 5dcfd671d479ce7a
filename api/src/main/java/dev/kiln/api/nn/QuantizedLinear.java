package dev.kiln.api.nn;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.internal.Internal;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;

/**
 * A {@link Linear} layer for inference with int8 weights, PyTorch's dynamically quantized
 * {@code nn.quantized.dynamic.Linear}: the weight [out, in] is stored as int8 with one symmetric
 * scale per output channel, each input batch is quantized to int8 inside the compiled graph, and
 * results come back in f32 ({@link Composite.QuantizedLinear} defines the arithmetic). Built by
 * {@link Quantization#quantizeDynamic}; it has no trainable parameters.
 */
public final class QuantizedLinear extends Module {
    private final int in, out;
    /** Host copies, the layer's truth: device tensors are made from them for each Kiln that runs it. */
    private final byte[] weight;
    private final float[] scale, bias;
    private volatile Device onDevice;

    /** The layer's tensors on one Kiln. */
    private record Device(Kiln kiln, Tensor weight, Tensor scale, Tensor bias) {}

    /**
     * A layer from already quantized weights: {@code weight} [out, in] row-major, {@code scale} and
     * {@code bias} [out]; real weight {@code [o][i]} is {@code weight[o * in + i] * scale[o]}.
     */
    public QuantizedLinear(int in, int out, byte[] weight, float[] scale, float[] bias) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("QuantizedLinear needs positive sizes, got " + in + " -> " + out);
        if (weight.length != Math.multiplyExact(in, out)) {
            throw new IllegalArgumentException("QuantizedLinear(" + in + " -> " + out + "): weight has " + weight.length + " values, expected " + (long) in * out);
        }
        if (scale.length != out || bias.length != out) {
            throw new IllegalArgumentException("QuantizedLinear(" + in + " -> " + out + "): scale and bias need " + out + " values, got " + scale.length + " and " + bias.length);
        }
        for (int o = 0; o < out; o++) {
            if (!(scale[o] > 0) || !Float.isFinite(scale[o])) throw new IllegalArgumentException("QuantizedLinear(" + in + " -> " + out + "): scale[" + o + "] is " + scale[o] + ", must be positive");
        }
        this.in = in;
        this.out = out;
        this.weight = weight.clone();
        this.scale = scale.clone();
        this.bias = bias.clone();
    }

    /**
     * Quantizes {@code linear}'s current weights: per output row, {@code scale = max(max|w|,
     * MIN_NORMAL) / 127} and {@code q = round(w / scale)} with ties away from zero, the rounding the
     * activations get inside {@link Composite.QuantizedLinear}.
     */
    public static QuantizedLinear of(Linear linear, Kiln kiln) {
        int in = linear.weight().shape().dim(1), out = linear.weight().shape().dim(0);
        float[] w = linear.weight().value(kiln).toFloatArray();
        float[] b = linear.bias().value(kiln).toFloatArray();
        byte[] q = new byte[w.length];
        float[] s = new float[out];
        for (int o = 0; o < out; o++) {
            float amax = 0;
            for (int i = 0; i < in; i++) amax = Math.max(amax, Math.abs(w[o * in + i]));
            s[o] = Math.max(amax, Float.MIN_NORMAL) / Composite.QuantizedLinear.QMAX;
            for (int i = 0; i < in; i++) q[o * in + i] = quantize(w[o * in + i], s[o]);
        }
        return new QuantizedLinear(in, out, q, s, b);
    }

    /** {@code round(v / scale)} with ties away from zero, clamped to +-127 against float rounding at the top. */
    static byte quantize(float v, float scale) {
        float r = v / scale;
        int q = (int) (r + (r < 0 ? -0.5f : 0.5f));
        return (byte) Math.max(-Composite.QuantizedLinear.QMAX, Math.min(Composite.QuantizedLinear.QMAX, q));
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() < 2 || s.dim(-1) != in) {
            throw new IllegalArgumentException(describe() + ": expected input of shape [batch, " + in + "] but got " + s);
        }
        if (x.dtype() != DType.F32) throw new IllegalArgumentException(describe() + ": quantizes f32 inputs, got " + x.dtype().label());
        Device d = device(x.kiln());
        Composite.QuantizedLinear op = new Composite.QuantizedLinear(Activation.NONE);
        if (s.rank() == 2) return Tensor.apply1(op, x, d.weight(), d.scale(), d.bias());
        int[] dims = s.dims();
        dims[dims.length - 1] = out;
        return Tensor.apply1(op, x.reshape(-1, in), d.weight(), d.scale(), d.bias()).reshape(dims);
    }

    private Device device(Kiln kiln) {
        Device d = onDevice;
        if (d != null && d.kiln() == kiln) return d;
        synchronized (this) {
            if (onDevice == null || onDevice.kiln() != kiln) {
                // Constants: the layer never changes, so a plugin may pack the weight once (oneDNN does).
                Internal.Access a = Internal.access();
                onDevice = new Device(kiln,
                        a.constant(kiln, new TensorType(DType.I8, Shape.of(out, in)), MemorySegment.ofArray(weight)),
                        a.constant(kiln, new TensorType(DType.F32, Shape.of(out)), MemorySegment.ofArray(scale)),
                        a.constant(kiln, new TensorType(DType.F32, Shape.of(out)), MemorySegment.ofArray(bias)));
            }
            return onDevice;
        }
    }

    public int inFeatures() { return in; }

    public int outFeatures() { return out; }

    /** The int8 weight [out, in], row-major (a copy). */
    public byte[] weight() { return weight.clone(); }

    /** The per-output-channel scales [out] (a copy). */
    public float[] scale() { return scale.clone(); }

    /** The f32 bias [out] (a copy). */
    public float[] bias() { return bias.clone(); }

    @Override public LayerConfig config() { return LayerConfig.of("QuantizedLinear", "in", in, "out", out); }

    @Override public String toString() { return "QuantizedLinear(" + in + " -> " + out + ", int8)"; }
}
