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
 * <p>A constant weight buffer ({@link HostBuffer#constant}, as a quantized model's layers upload
 * theirs) is reordered once into the layout oneDNN prefers for this shape and ISA (blocked, with
 * the s8 x s8 compensation sums where VNNI needs them) and reused for as long as the kernel is
 * handed that same read-only segment: oneDNN no longer copies the weights on every call, which
 * at batch 1 is most of the work. Any other weight is read in place, in its [out, in] rows, by a
 * matmul of its own, so a changed weight is always the one used.
 */
final class OneDnnInt8Matmul implements AutoCloseable {
    private final OneDnnPrimitive strided, blocked, pack;
    /** One thread or the engine's, for each matmul by its own times: s32 sums make the result the same either way. */
    private final OneDnnThreadChoice stridedThreads, blockedThreads;
    private final TensorType packedType;
    private final Arena scope;
    /** The weights in oneDNN's layout, allocated on the first run with a constant weight. */
    private HostBuffer packed;
    /** The constant weight segment {@link #packed} was made from. */
    private MemorySegment packedFrom;
    private int packs;
    private final MemorySegment[] packIn = new MemorySegment[1], packOut = new MemorySegment[1];
    private final MemorySegment[] matmulIn = new MemorySegment[5];

    private OneDnnInt8Matmul(OneDnnPrimitive strided, OneDnnPrimitive blocked, OneDnnPrimitive pack, TensorType packedType, Arena scope, int threads) {
        this.strided = strided;
        this.blocked = blocked;
        this.pack = pack;
        this.packedType = packedType;
        this.scope = scope;
        this.stridedThreads = new OneDnnThreadChoice(threads);
        this.blockedThreads = new OneDnnThreadChoice(threads);
        // A copy, bound by memory, made once per constant: not worth a fork-join (see OneDnnThreadChoice).
        pack.capThreads(1);
    }

    /**
     * The matmuls of {@code x[n, in] @ w[out, in]^T} for source type {@code sourceType}
     * ({@code dnnl_s8} or {@code dnnl_u8}) with {@code activation} NONE or RELU; packed weights
     * live in the accelerator's memory {@code scope}.
     */
    static OneDnnInt8Matmul create(OneDnnEngine e, String what, int sourceType, Composite.Activation activation,
                                   int n, int in, int out, Arena scope) {
        dnnl_memory_desc src = desc(sourceType, sourceType == dnnl_u8 ? "u8" : "i8", new long[] {n, in}, new long[] {in, 1});
        dnnl_memory_desc rows = desc(DType.I8, new long[] {in, out}, new long[] {1, in});
        dnnl_memory_desc any = anyLayout(new long[] {in, out}, what);
        dnnl_memory_desc layout = new dnnl_memory_desc();
        dnnl_memory_desc[] rest = {desc(DType.F32, new long[] {1, out}), desc(DType.F32, new long[] {1}), desc(DType.F32, new long[] {out}), desc(DType.F32, new long[] {n, out})};
        dnnl_primitive_attr attr = attributes(activation, what);
        OneDnnPrimitive s = null, b = null;
        try {
            s = matmul(e, what, src, rows, rest, attr);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_matmul_primitive_desc_create(pd, e.engine, src, any, rest[0], rest[3], attr), what);
            try {
                check(dnnl_memory_desc_clone(layout, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)), what);
            } catch (RuntimeException ex) {
                dnnl_primitive_desc_destroy(pd);
                throw ex;
            }
            b = primitive(e, what, pd, src, layout, rest);
            dnnl_primitive_desc rpd = new dnnl_primitive_desc();
            String packing = what + " (packing the weights)";
            check(dnnl_reorder_primitive_desc_create(rpd, rows, e.engine, layout, e.engine, null), packing);
            OneDnnPrimitive p = new OneDnnPrimitive(e, packing, rpd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {rows, layout}, 1);
            TensorType packedType = new TensorType(DType.I8, Shape.of(Math.toIntExact(dnnl_memory_desc_get_size(layout))));
            return new OneDnnInt8Matmul(s, b, p, packedType, scope, e.threads());
        } catch (RuntimeException ex) {
            if (s != null) s.close();
            if (b != null) b.close();
            throw ex;
        } finally {
            OneDnnNative.destroy(src, rows, any, layout);
            OneDnnNative.destroy(rest);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    /** Source and per-channel weight scales, read at run time; ReLU as a post-op. */
    private static dnnl_primitive_attr attributes(Composite.Activation activation, String what) {
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), what);
        try {
            check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_SRC, 0), what);
            // Mask bit 1: one scale per column of the [in, out] weight, i.e. per output channel.
            check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_WEIGHTS, 1 << 1), what);
            if (activation == Composite.Activation.RELU) relu(attr, what);
            return attr;
        } catch (RuntimeException ex) {
            dnnl_primitive_attr_destroy(attr);
            throw ex;
        }
    }

    private static OneDnnPrimitive matmul(OneDnnEngine e, String what, dnnl_memory_desc src, dnnl_memory_desc wei, dnnl_memory_desc[] rest, dnnl_primitive_attr attr) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_matmul_primitive_desc_create(pd, e.engine, src, wei, rest[0], rest[3], attr), what);
        return primitive(e, what, pd, src, wei, rest);
    }

    /** The matmul of {@code pd}, arguments bound as {@link #run} passes them; {@code rest} is bias, the two scales, dst. */
    private static OneDnnPrimitive primitive(OneDnnEngine e, String what, dnnl_primitive_desc pd, dnnl_memory_desc src, dnnl_memory_desc wei, dnnl_memory_desc[] rest) {
        return new OneDnnPrimitive(e, what, pd,
                new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC, DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                new dnnl_memory_desc[] {src, wei, rest[0], rest[1], rest[2], rest[3]}, 5);
    }

    private static dnnl_memory_desc anyLayout(long[] dims, String what) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        try (LongPointer d = new LongPointer(dims)) {
            check(dnnl_memory_desc_create_with_tag(md, dims.length, d, dnnl_s8, dnnl_format_tag_any), what);
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
        // Only a read-only segment is known to hold the same bytes whenever it is handed over again.
        boolean constant = weights.isReadOnly();
        if (constant && weights != packedFrom) {
            if (packed == null) packed = HostBuffer.allocate(packedType, scope);
            packIn[0] = weights;
            packOut[0] = packed.segment();
            pack.run(packIn, packOut);
            packedFrom = weights;
            packs++;
        }
        matmulIn[0] = qx;
        matmulIn[1] = constant ? packed.segment() : weights;
        matmulIn[2] = bias;
        matmulIn[3] = srcScale;
        matmulIn[4] = weiScale;
        OneDnnPrimitive p = constant ? blocked : strided;
        OneDnnThreadChoice threads = constant ? blockedThreads : stridedThreads;
        p.capThreads(threads.next());
        long t0 = System.nanoTime();
        p.run(matmulIn, y);
        threads.took(System.nanoTime() - t0);
    }

    /** oneDNN's implementation of the matmul on packed weights, e.g. {@code brg_matmul:avx512_core_vnni}. */
    String implementation() { return blocked.implementation(); }

    /** The smoothed run times of the matmul on packed weights on one thread and on the engine's, for diagnostics. */
    String threadTimes() { return "packed " + blockedThreads + "; in place " + stridedThreads; }

    /** How many times constant weights have been packed, for tests. */
    int packs() { return packs; }

    @Override public void close() {
        strided.close();
        blocked.close();
        pack.close();
        if (packed != null) packed.close();
    }
}
