package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static dev.kiln.accel.onednn.OneDnnNative.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.accel.onednn.JavaWindows.ConvOp;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Window2d;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;

/**
 * The three convolution ops on oneDNN's convolution forward, backward-data and backward-weights
 * primitives. The IR's tensors are plain NCHW/OIHW, but on plain memory oneDNN only has a slow
 * reference path (about 1000x slower here), so the primitive is created with layout "any" and the
 * operands are reordered into the blocked layouts it picks and the result back, around each run.
 * A grouped weight [o, c/g, kh, kw] is the same memory as oneDNN's [g, o/g, c/g, kh, kw]. The
 * backward primitives need a forward descriptor as a hint; it is created and dropped here.
 */
final class OneDnnConv implements Kernel {
    /** Per operand (two inputs, one output): a reorder to or from the primitive's layout, or null when plain already. */
    private final OneDnnPrimitive[] reorders = new OneDnnPrimitive[3];
    private final MemorySegment[] staged = new MemorySegment[3];
    private final OneDnnPrimitive conv;
    /** Holds the staged operands; closed with the kernel, as the primitives are. */
    private final Arena arena = Arena.ofShared();

    private OneDnnConv(OneDnnEngine e, String what, dnnl_primitive_desc pd, int[] args, int[] queries, dnnl_memory_desc[] plain) {
        dnnl_memory_desc[] chosen = new dnnl_memory_desc[3];
        try {
            for (int i = 0; i < 3; i++) {
                chosen[i] = dnnl_primitive_desc_query_md(pd, queries[i], 0);
                if (dnnl_memory_desc_equal(chosen[i], plain[i]) != 0) continue;
                dnnl_primitive_desc rpd = new dnnl_primitive_desc();
                dnnl_memory_desc from = i < 2 ? plain[i] : chosen[i], to = i < 2 ? chosen[i] : plain[i];
                check(dnnl_reorder_primitive_desc_create(rpd, from, e.engine, to, e.engine, null), what + " (layout reorder)");
                reorders[i] = new OneDnnPrimitive(e, what + " (layout reorder)", rpd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {from, to}, 1);
                staged[i] = arena.allocate(dnnl_memory_desc_get_size(chosen[i]), 64);
            }
        } catch (RuntimeException ex) {
            dnnl_primitive_desc_destroy(pd);
            closeStaging();
            throw ex;
        }
        try {
            conv = new OneDnnPrimitive(e, what, pd, args, chosen, 2);
        } catch (RuntimeException ex) {
            closeStaging();
            throw ex;
        }
    }

    /** Frees the primitives now rather than when the accelerator closes, and the staged operands. */
    @Override public void close() {
        conv.close();
        closeStaging();
    }

    private void closeStaging() {
        for (OneDnnPrimitive r : reorders) if (r != null) r.close();
        if (arena.scope().isAlive()) arena.close();
    }

    static Kernel create(OneDnnEngine e, String what, ConvOp op, Window2d win, int groups, DType t, Shape x, Shape weight) {
        long[] xd = OneDnnNative.dims(x);
        long[] yd = {x.dim(0), weight.dim(0), win.outH(x.dim(2)), win.outW(x.dim(3))};
        long[] wd = groups == 1 ? OneDnnNative.dims(weight)
                : new long[] {groups, weight.dim(0) / groups, weight.dim(1), weight.dim(2), weight.dim(3)};
        dnnl_memory_desc src = desc(t, xd), wei = desc(t, wd), dst = desc(t, yd);
        dnnl_memory_desc srcAny = any(t, xd), weiAny = any(t, wd), dstAny = any(t, yd);
        try (LongPointer strides = new LongPointer(win.strideH(), win.strideW());
             // oneDNN counts dilation from 0 (no dilation), PyTorch from 1.
             LongPointer dil = new LongPointer(win.dilationH() - 1, win.dilationW() - 1);
             LongPointer pad = new LongPointer(win.padH(), win.padW())) {
            dnnl_primitive_desc fwd = new dnnl_primitive_desc();
            check(dnnl_convolution_forward_primitive_desc_create(fwd, e.engine, op == ConvOp.FORWARD ? dnnl_forward_inference : dnnl_forward_training,
                    dnnl_convolution_direct, srcAny, weiAny, null, dstAny, strides, dil, pad, pad, null), what);
            if (op == ConvOp.FORWARD) {
                return new OneDnnConv(e, what, fwd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                        new int[] {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md}, new dnnl_memory_desc[] {src, wei, dst});
            }
            dnnl_primitive_desc bwd = new dnnl_primitive_desc();
            try {
                if (op == ConvOp.BACKWARD_DATA) {
                    check(dnnl_convolution_backward_data_primitive_desc_create(bwd, e.engine, dnnl_convolution_direct, srcAny, weiAny, dstAny,
                            strides, dil, pad, pad, fwd, null), what);
                } else {
                    check(dnnl_convolution_backward_weights_primitive_desc_create(bwd, e.engine, dnnl_convolution_direct, srcAny, weiAny, null, dstAny,
                            strides, dil, pad, pad, fwd, null), what);
                }
            } finally {
                dnnl_primitive_desc_destroy(fwd);
            }
            // Operand order follows the IR op's inputs: (dy, w) -> dx and (x, dy) -> dw.
            return op == ConvOp.BACKWARD_DATA
                    ? new OneDnnConv(e, what, bwd, new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
                            new int[] {dnnl_query_diff_dst_md, dnnl_query_weights_md, dnnl_query_diff_src_md}, new dnnl_memory_desc[] {dst, wei, src})
                    : new OneDnnConv(e, what, bwd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS},
                            new int[] {dnnl_query_src_md, dnnl_query_diff_dst_md, dnnl_query_diff_weights_md}, new dnnl_memory_desc[] {src, dst, wei});
        } finally {
            OneDnnNative.destroy(src, wei, dst, srcAny, weiAny, dstAny);
        }
    }

    @Override public void run(MemorySegment[] in, MemorySegment[] out) {
        MemorySegment a = stage(0, in[0]), b = stage(1, in[1]);
        MemorySegment y = reorders[2] == null ? out[0] : staged[2];
        conv.run(new MemorySegment[] {a, b}, new MemorySegment[] {y});
        if (reorders[2] != null) reorders[2].run(new MemorySegment[] {y}, out);
    }

    private MemorySegment stage(int i, MemorySegment plain) {
        if (reorders[i] == null) return plain;
        reorders[i].run(new MemorySegment[] {plain}, new MemorySegment[] {staged[i]});
        return staged[i];
    }

    private static dnnl_memory_desc any(DType t, long[] dims) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        try (LongPointer d = new LongPointer(dims)) {
            check(dnnl_memory_desc_create_with_tag(md, dims.length, d, OneDnnNative.dataType(t), dnnl_format_tag_any), "memory descriptor " + t.label());
        }
        return md;
    }

    @Override public String toString() { return conv.toString(); }
}
