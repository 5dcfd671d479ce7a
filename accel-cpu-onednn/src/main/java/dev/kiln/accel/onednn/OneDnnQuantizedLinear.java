package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static dev.kiln.accel.onednn.OneDnnNative.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/**
 * {@link Composite.QuantizedLinear} on oneDNN's int8 matmul (s8 x s8 -> s32, VNNI where the CPU
 * has it): the activations are quantized here in Java exactly as the decomposition does in f32
 * (per-tensor max, one division, ties away from zero), then one matmul primitive dequantizes with
 * the per-tensor source scale and the per-column weight scales as runtime attributes, adds the
 * f32 bias and applies ReLU as a post-op. The weights are read in place, [out, in] as an [in, out]
 * matrix with column-major strides, as {@link OneDnnMatmul#linear} reads f32 weights.
 */
final class OneDnnQuantizedLinear implements Kernel {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final OneDnnPrimitive matmul;
    private final HostBuffer quantized, sourceScale;
    /** Scratch: the activations as f32 and as int8 (a kernel runs on one thread at a time). */
    private final float[] x;
    private final byte[] qx;
    private final MemorySegment[] matmulIn = new MemorySegment[5];

    private OneDnnQuantizedLinear(OneDnnPrimitive matmul, HostBuffer quantized, HostBuffer sourceScale, int elements) {
        this.matmul = matmul;
        this.quantized = quantized;
        this.sourceScale = sourceScale;
        this.x = new float[elements];
        this.qx = new byte[elements];
    }

    /** Whether oneDNN runs this node natively: f32 activations, activation none or relu, no empty operand. */
    static boolean supports(Composite.QuantizedLinear op, TensorType x, TensorType out) {
        return x.dtype() == DType.F32 && x.shape().size() > 0 && out.shape().size() > 0
                && (op.activation() == Composite.Activation.NONE || op.activation() == Composite.Activation.RELU);
    }

    static Kernel create(OneDnnEngine e, String what, Composite.QuantizedLinear op, TensorType x, TensorType wq) {
        int n = x.shape().dim(0), in = x.shape().dim(1), o = wq.shape().dim(0);
        dnnl_memory_desc src = desc(DType.I8, new long[] {n, in});
        dnnl_memory_desc wei = desc(DType.I8, new long[] {in, o}, new long[] {1, in});
        dnnl_memory_desc bias = desc(DType.F32, new long[] {1, o});
        dnnl_memory_desc srcScale = desc(DType.F32, new long[] {1});
        dnnl_memory_desc weiScale = desc(DType.F32, new long[] {o});
        dnnl_memory_desc dst = desc(DType.F32, new long[] {n, o});
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), what);
        HostBuffer q = null, s = null;
        OneDnnPrimitive p = null;
        try {
            check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_SRC, 0), what);
            // Mask bit 1: one scale per column of the [in, out] weight, i.e. per output channel.
            check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_WEIGHTS, 1 << 1), what);
            if (op.activation() == Composite.Activation.RELU) relu(attr, what);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_matmul_primitive_desc_create(pd, e.engine, src, wei, bias, dst, attr), what);
            p = OneDnnTuner.fastest(e, what, pd,
                    new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC, DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {src, wei, bias, srcScale, weiScale, dst}, 5);
            // Threads as the f32 layer of this shape gets: the same multiply-adds on a quarter of the bytes.
            p.capThreadsAsIf(Math.multiplyExact(4L, Math.addExact(Math.addExact((long) n * in, (long) in * o), (long) n * o)));
            q = HostBuffer.allocate(new TensorType(DType.I8, Shape.of(n, in)));
            s = HostBuffer.allocate(new TensorType(DType.F32, Shape.of(1)));
            return new OneDnnQuantizedLinear(p, q, s, Math.multiplyExact(n, in));
        } catch (RuntimeException ex) {
            if (p != null) p.close();
            if (q != null) q.close();
            throw ex;
        } finally {
            OneDnnNative.destroy(src, wei, bias, srcScale, weiScale, dst);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    private static void relu(dnnl_primitive_attr attr, String what) {
        dnnl_post_ops ops = new dnnl_post_ops();
        check(dnnl_post_ops_create(ops), what);
        try {
            check(dnnl_post_ops_append_eltwise(ops, dnnl_eltwise_relu, 0f, 0f), what);
            check(dnnl_primitive_attr_set_post_ops(attr, ops), what);
        } finally {
            dnnl_post_ops_destroy(ops);
        }
    }

    /** Inputs x, wq, ws, bias; output y. */
    @Override public void run(MemorySegment[] in, MemorySegment[] out) {
        MemorySegment q = quantized.segment();
        MemorySegment.copy(in[0], F32, 0, x, 0, x.length);
        float scale = scale(x);
        quantize(x, qx, scale);
        MemorySegment.copy(qx, 0, q, ValueLayout.JAVA_BYTE, 0, qx.length);
        sourceScale.segment().set(F32, 0, scale);
        matmulIn[0] = q;
        matmulIn[1] = in[1];
        matmulIn[2] = in[3];
        matmulIn[3] = sourceScale.segment();
        matmulIn[4] = in[2];
        matmul.run(matmulIn, out);
    }

    /** {@link Composite.QuantizedLinear#scale}: {@code max(max|x|, MIN_NORMAL) / 127} in f32. */
    static float scale(float[] x) {
        // The largest |x| as the largest sign-cleared bit pattern: integers order non-negative
        // floats as floats do, NaN above infinity (so NaN wins, as in Math.max), and an int max
        // vectorises where Math.max, with its NaN and -0 rules, does not.
        int bits = 0;
        for (float v : x) bits = Math.max(bits, Float.floatToRawIntBits(v) & 0x7fffffff);
        return Math.max(Float.intBitsToFloat(bits), Float.MIN_NORMAL) / Composite.QuantizedLinear.QMAX;
    }

    /**
     * {@link Composite.QuantizedLinear#quantize}: f32 division, then +-0.5 and truncation. On Java
     * arrays, with copySign rather than a branch, so that C2 vectorises the loop (on a
     * MemorySegment with a branch it took ~10 ns per element, longer than the int8 matmul).
     */
    static void quantize(float[] x, byte[] q, float scale) {
        for (int i = 0; i < x.length; i++) {
            float v = x[i] / scale;
            q[i] = (byte) (int) (v + Math.copySign(0.5f, v));
        }
    }

    /** oneDNN's implementation of the matmul, e.g. {@code brg_matmul:avx512_core_vnni}. */
    String implementation() { return matmul.implementation(); }

    @Override public void close() {
        matmul.close();
        quantized.close();
        sourceScale.close();
    }
}
