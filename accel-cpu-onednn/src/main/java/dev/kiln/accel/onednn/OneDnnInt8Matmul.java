package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static dev.kiln.accel.onednn.OneDnnNative.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;

/**
 * One oneDNN int8 matmul of {@link OneDnnQuantizedLinear}: int8 activations [n, in] (s8, or u8
 * when the batch has no negative values) times s8 weights, summed in s32, dequantized to f32 by
 * the per-tensor source scale and the per-channel weight scales (runtime attributes), plus the
 * f32 bias, then ReLU as a post-op.
 *
 * <p>The weights are read in the layout oneDNN prefers for this shape and ISA (blocked, with the
 * s8 x s8 compensation sums where VNNI needs them), reordered from their [out, in] rows. A
 * constant weight buffer ({@link HostBuffer#constant}) is reordered once and reused for as long
 * as the kernel is handed that same read-only segment; any other weight is reordered on every
 * call, which is the copy oneDNN would otherwise make inside the matmul, so a changed weight is
 * always the one used.
 */
final class OneDnnInt8Matmul implements AutoCloseable {
    private final OneDnnPrimitive matmul, reorder;
    private final TensorType packedType;
    private final Arena scope;
    /** One thread or the engine's, by the matmul's own times: its s32 sums make the result the same either way. */
    private final OneDnnThreadChoice threads;
    /** The weights in oneDNN's layout, allocated on the first run. */
    private HostBuffer packed;
    /** The constant weight segment {@link #packed} was made from, or null when it must be remade. */
    private MemorySegment packedFrom;
    private final MemorySegment[] reorderIn = new MemorySegment[1], reorderOut = new MemorySegment[1];
    private final MemorySegment[] matmulIn = new MemorySegment[5];

    private OneDnnInt8Matmul(OneDnnPrimitive matmul, OneDnnPrimitive reorder, TensorType packedType, Arena scope, OneDnnThreadChoice threads) {
        this.threads = threads;
        this.matmul = matmul;
        this.reorder = reorder;
        this.packedType = packedType;
        this.scope = scope;
    }

    /**
     * The matmul of {@code x[n, in] @ w[out, in]^T} for source type {@code sourceType}
     * ({@code dnnl_s8} or {@code dnnl_u8}) with {@code activation} NONE or RELU, its packed
     * weights in the accelerator's memory {@code scope}.
     */
    static OneDnnInt8Matmul create(OneDnnEngine e, String what, int sourceType, Composite.Activation activation,
                                   int n, int in, int out, Arena scope) {
        dnnl_memory_desc src = desc(sourceType, sourceType == dnnl_u8 ? "u8" : "i8", new long[] {n, in}, new long[] {in, 1});
        dnnl_memory_desc plain = desc(DType.I8, new long[] {in, out}, new long[] {1, in});
        dnnl_memory_desc any = anyLayout(DType.I8, new long[] {in, out}, what);
        dnnl_memory_desc bias = desc(DType.F32, new long[] {1, out});
        dnnl_memory_desc srcScale = desc(DType.F32, new long[] {1});
        dnnl_memory_desc weiScale = desc(DType.F32, new long[] {out});
        dnnl_memory_desc dst = desc(DType.F32, new long[] {n, out});
        dnnl_memory_desc blocked = new dnnl_memory_desc();
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), what);
        OneDnnPrimitive mm = null, ro = null;
        try {
            check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_SRC, 0), what);
            // Mask bit 1: one scale per column of the [in, out] weight, i.e. per output channel.
            check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_WEIGHTS, 1 << 1), what);
            if (activation == Composite.Activation.RELU) relu(attr, what);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_matmul_primitive_desc_create(pd, e.engine, src, any, bias, dst, attr), what);
            try {
                check(dnnl_memory_desc_clone(blocked, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)), what);
            } catch (RuntimeException ex) {
                dnnl_primitive_desc_destroy(pd);
                throw ex;
            }
            mm = new OneDnnPrimitive(e, what, pd,
                    new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC, DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {src, blocked, bias, srcScale, weiScale, dst}, 5);
            dnnl_primitive_desc rpd = new dnnl_primitive_desc();
            check(dnnl_reorder_primitive_desc_create(rpd, plain, e.engine, blocked, e.engine, null), what + " (packing the weights)");
            ro = new OneDnnPrimitive(e, what + " (packing the weights)", rpd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {plain, blocked}, 1);
            ro.capThreads(1); // a copy, bound by memory, not worth a fork-join (see OneDnnThreadChoice)
            TensorType packedType = new TensorType(DType.I8, Shape.of(Math.toIntExact(dnnl_memory_desc_get_size(blocked))));
            return new OneDnnInt8Matmul(mm, ro, packedType, scope, new OneDnnThreadChoice(e.threads()));
        } catch (RuntimeException ex) {
            if (mm != null) mm.close();
            if (ro != null) ro.close();
            throw ex;
        } finally {
            OneDnnNative.destroy(src, plain, any, bias, srcScale, weiScale, dst, blocked);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    private static dnnl_memory_desc anyLayout(DType t, long[] dims, String what) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        try (LongPointer d = new LongPointer(dims)) {
            check(dnnl_memory_desc_create_with_tag(md, dims.length, d, OneDnnNative.dataType(t), dnnl_format_tag_any), what);
        }
        return md;
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

    /** {@code y = act((qx @ w^T) * srcScale * weiScale + bias)}; {@code weights} is the op's [out, in] int8 input. */
    void run(MemorySegment qx, MemorySegment weights, MemorySegment weiScale, MemorySegment bias, MemorySegment srcScale, MemorySegment[] y) {
        if (packed == null) packed = HostBuffer.allocate(packedType, scope);
        MemorySegment blocked = packed.segment();
        if (weights != packedFrom) {
            reorderIn[0] = weights;
            reorderOut[0] = blocked;
            reorder.run(reorderIn, reorderOut);
            // Only a read-only segment is known not to change under the same identity.
            packedFrom = weights.isReadOnly() ? weights : null;
        }
        matmulIn[0] = qx;
        matmulIn[1] = blocked;
        matmulIn[2] = bias;
        matmulIn[3] = srcScale;
        matmulIn[4] = weiScale;
        matmul.capThreads(threads.next());
        long t0 = System.nanoTime();
        matmul.run(matmulIn, y);
        threads.took(System.nanoTime() - t0);
    }

    /** oneDNN's implementation of the matmul, e.g. {@code brg_matmul:avx512_core_vnni}. */
    String implementation() { return matmul.implementation(); }

    /** The smoothed run times on one thread and on the engine's, for diagnostics. */
    String threadTimes() { return threads.toString(); }

    /** Whether the weights in use were packed from a constant buffer and are being reused. */
    boolean reusesPackedWeights() { return packedFrom != null; }

    @Override public void close() {
        matmul.close();
        reorder.close();
        if (packed != null) packed.close();
    }
}
