package dev.kiln.accel.onednn;

import static org.bytedeco.dnnl.global.dnnl.dnnl_s8;
import static org.bytedeco.dnnl.global.dnnl.dnnl_u8;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link Composite.QuantizedLinear} on oneDNN's int8 matmul (VNNI where the CPU has it): the
 * activations are quantized here exactly as the decomposition does in f32 (per-tensor max, one
 * division, ties away from zero), by {@link Int8Loops} reading the input segment in place, then
 * one {@link OneDnnInt8Matmul} dequantizes, adds the bias and applies ReLU.
 *
 * <p>A batch without negative values (a ReLU's output, pixel intensities) quantizes to 0..127,
 * whose bytes are the same as s8 and as u8, and runs the u8 x s8 matmul: VNNI multiplies u8 by
 * s8 natively, while s8 x s8 costs oneDNN a shift and a compensation term (0-20% slower
 * here, by shape and run: OneDnnGemmRates in bench/ times both). The s8 matmul is made with the kernel, so that a shape oneDNN refuses
 * fails at compile time, the u8 one on first use; each packs its own weights.
 */
final class OneDnnQuantizedLinear implements Kernel {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final OneDnnEngine engine;
    private final String what;
    private final Composite.Activation activation;
    private final int n, in, out;
    private final Arena scope;
    private final Int8Loops loops = Int8Loops.chosen();
    /** The s8-source matmul and the u8-source one (null until a batch without negatives comes). */
    private OneDnnInt8Matmul signed, unsigned;
    /** Scratch holding the quantized batch and, 64-byte aligned after it, its scale; and views of the two. */
    private final HostBuffer scratch;
    private final MemorySegment quantized, sourceScale;

    private OneDnnQuantizedLinear(OneDnnEngine engine, String what, Composite.Activation activation, int n, int in, int out, Arena scope) {
        this.engine = engine;
        this.what = what;
        this.activation = activation;
        this.n = n;
        this.in = in;
        this.out = out;
        this.scope = scope;
        long bytes = Math.multiplyExact((long) n, in), scaleAt = Math.addExact(bytes, 63) & ~63L;
        this.scratch = HostBuffer.allocate(new TensorType(DType.I8, Shape.of(Math.toIntExact(Math.addExact(scaleAt, 64)))), scope);
        this.quantized = scratch.segment().asSlice(0, bytes);
        this.sourceScale = scratch.segment().asSlice(scaleAt, 4);
    }

    /** Whether oneDNN runs this node natively: f32 activations, activation none or relu, no empty operand. */
    static boolean supports(Composite.QuantizedLinear op, TensorType x, TensorType out) {
        return x.dtype() == DType.F32 && x.shape().size() > 0 && out.shape().size() > 0
                && (op.activation() == Composite.Activation.NONE || op.activation() == Composite.Activation.RELU);
    }

    /**
     * The kernel for {@code x[n, in]} and weights {@code wq[out, in]}. The s8 matmul is made now,
     * so that a shape oneDNN cannot run fails at compile time; {@code scope} owns its scratch.
     */
    static OneDnnQuantizedLinear create(OneDnnEngine e, String what, Composite.QuantizedLinear op, TensorType x, TensorType wq, Arena scope) {
        OneDnnQuantizedLinear k = new OneDnnQuantizedLinear(e, what, op.activation(), x.shape().dim(0), x.shape().dim(1), wq.shape().dim(0), scope);
        try {
            k.matmul(true);
            return k;
        } catch (RuntimeException ex) {
            k.close();
            throw ex;
        }
    }

    private OneDnnInt8Matmul matmul(boolean hasNegatives) {
        if (hasNegatives) {
            if (signed == null) signed = OneDnnInt8Matmul.create(engine, what, dnnl_s8, activation, n, in, out, scope);
            return signed;
        }
        if (unsigned == null) unsigned = OneDnnInt8Matmul.create(engine, what, dnnl_u8, activation, n, in, out, scope);
        return unsigned;
    }

    /** Inputs x, wq, ws, bias; output y. */
    @Override public void run(MemorySegment[] in, MemorySegment[] out) {
        long count = quantized.byteSize();
        float m = loops.signedAbsMax(in[0], count);
        float scale = Math.max(Math.abs(m), Float.MIN_NORMAL) / Composite.QuantizedLinear.QMAX;
        loops.quantize(in[0], count, scale, quantized);
        sourceScale.set(F32, 0, scale);
        matmul(m < 0).run(quantized, in[1], in[2], in[3], sourceScale, out);
    }

    /** oneDNN's implementation of the s8-source matmul, e.g. {@code brg_matmul:avx512_core_vnni}. */
    String implementation() { return matmul(true).implementation(); }

    /** The matmul for batches with negative values (s8 source) or without (u8), null until one has run. */
    OneDnnInt8Matmul made(boolean hasNegatives) { return hasNegatives ? signed : unsigned; }

    @Override public void close() {
        if (signed != null) signed.close();
        if (unsigned != null) unsigned.close();
        scratch.close();
    }
}
