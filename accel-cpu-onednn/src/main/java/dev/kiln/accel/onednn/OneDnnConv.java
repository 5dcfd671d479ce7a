package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static dev.kiln.accel.onednn.OneDnnNative.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.accel.onednn.JavaWindows.ConvOp;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Window2d;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;

/**
 * The convolution ops on oneDNN's convolution forward (with an optional bias and activation
 * post-op), backward-data and backward-weights (with an optional bias gradient) primitives.
 *
 * <p>Activations come in the {@link MemoryFormat} the kernel is given; weights and biases are the
 * IR's plain tensors. The primitive is first asked for on the given activation formats with the
 * weights' format left to oneDNN ("any"); where that finds only oneDNN's reference code (about
 * 1000x slower) every format is left to oneDNN. Each operand whose memory differs from what the
 * primitive chose is reordered around the run, through memory staged once with the kernel. A
 * grouped weight [o, c/g, kh, kw] is the same memory as oneDNN's [g, o/g, c/g, kh, kw]. The
 * backward primitives need a forward descriptor as a hint; it is created and dropped here.
 */
final class OneDnnConv implements Kernel {
    /** One operand: its oneDNN argument, the descriptor of the memory the kernel is handed, and whether it is read or written. */
    private record Operand(int arg, dnnl_memory_desc given, boolean input) {}

    private final OneDnnPrimitive conv;
    /** Per operand: a reorder to or from the primitive's layout, or null when the given memory is used as it is. */
    private final OneDnnPrimitive[] reorders;
    private final MemorySegment[] staged;
    private final int inputs;
    /** The primitive's arguments and one-element arrays for the reorders, reused by every run. */
    private final MemorySegment[] args, results, from = new MemorySegment[1], to = new MemorySegment[1];
    /** Holds the staged operands; closed with the kernel, as the primitives are. */
    private final Arena arena = Arena.ofShared();

    private OneDnnConv(OneDnnEngine e, String what, dnnl_primitive_desc pd, List<Operand> ops) {
        int n = ops.size();
        reorders = new OneDnnPrimitive[n];
        staged = new MemorySegment[n];
        inputs = (int) ops.stream().filter(Operand::input).count();
        args = new MemorySegment[inputs];
        results = new MemorySegment[n - inputs];
        int[] kinds = new int[n];
        dnnl_memory_desc[] chosen = new dnnl_memory_desc[n];
        try {
            for (int i = 0; i < n; i++) {
                Operand op = ops.get(i);
                kinds[i] = op.arg();
                chosen[i] = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, op.arg());
                if (dnnl_memory_desc_equal(chosen[i], op.given()) != 0) continue;
                dnnl_memory_desc from = op.input() ? op.given() : chosen[i], to = op.input() ? chosen[i] : op.given();
                dnnl_primitive_desc rpd = new dnnl_primitive_desc();
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
            conv = new OneDnnPrimitive(e, what, pd, kinds, chosen, inputs);
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

    /**
     * {@code op} over x and weight of these shapes; x (or dx) is in {@code xf} and y (or dy) in
     * {@code yf}. With {@code bias}, the forward reads a bias [o] and the backward-weights also
     * writes its gradient; {@code act} is the forward's post-op.
     */
    static Kernel create(OneDnnEngine e, String what, ConvOp op, Window2d win, int groups, Shape x, Shape weight,
                         boolean bias, Activation act, MemoryFormat xf, MemoryFormat yf) {
        DType t = DType.F32;
        long[] xd = OneDnnNative.dims(x);
        long[] yd = {x.dim(0), weight.dim(0), win.outH(x.dim(2)), win.outW(x.dim(3))};
        long[] wd = groups == 1 ? OneDnnNative.dims(weight)
                : new long[] {groups, weight.dim(0) / groups, weight.dim(1), weight.dim(2), weight.dim(3)};
        dnnl_memory_desc src = xf.desc(t, xd), wei = desc(t, wd), dst = yf.desc(t, yd), b = bias ? desc(t, new long[] {weight.dim(0)}) : null;
        try {
            Geometry g = new Geometry(e, what, op, win, src, xd, wd, b, dst, yd, act);
            dnnl_primitive_desc pd = g.descriptor(true);
            if (pd == null) pd = g.descriptor(false);
            List<Operand> ops = new ArrayList<>();
            switch (op) {
                case FORWARD -> {
                    ops.addAll(List.of(new Operand(DNNL_ARG_SRC, src, true), new Operand(DNNL_ARG_WEIGHTS, wei, true)));
                    if (bias) ops.add(new Operand(DNNL_ARG_BIAS, b, true));
                    ops.add(new Operand(DNNL_ARG_DST, dst, false));
                }
                // Operand order follows the IR op's inputs: (dy, w) -> dx and (x, dy) -> dw [, db].
                case BACKWARD_DATA -> ops.addAll(List.of(new Operand(DNNL_ARG_DIFF_DST, dst, true), new Operand(DNNL_ARG_WEIGHTS, wei, true),
                        new Operand(DNNL_ARG_DIFF_SRC, src, false)));
                case BACKWARD_WEIGHTS -> {
                    ops.addAll(List.of(new Operand(DNNL_ARG_SRC, src, true), new Operand(DNNL_ARG_DIFF_DST, dst, true),
                            new Operand(DNNL_ARG_DIFF_WEIGHTS, wei, false)));
                    if (bias) ops.add(new Operand(DNNL_ARG_DIFF_BIAS, b, false));
                }
            }
            return new OneDnnConv(e, what, pd, ops);
        } finally {
            OneDnnNative.destroy(src, wei, dst, b);
        }
    }

    /** What a convolution's descriptors are made from; {@link #descriptor} builds the primitive's. */
    private record Geometry(OneDnnEngine e, String what, ConvOp op, Window2d win, dnnl_memory_desc src, long[] xd, long[] wd,
                            dnnl_memory_desc bias, dnnl_memory_desc dst, long[] yd, Activation act) {
        /**
         * The primitive descriptor on the given activation formats ({@code strict}), or null when
         * oneDNN has only its reference code or nothing for them; else on formats oneDNN chooses.
         */
        dnnl_primitive_desc descriptor(boolean strict) {
            dnnl_memory_desc s = strict ? clone(src) : any(xd), d = strict ? clone(dst) : any(yd), w = any(wd);
            dnnl_primitive_attr attr = op == ConvOp.FORWARD ? OneDnnEltwise.postOp(act, what) : null;
            try (LongPointer strides = new LongPointer(win.strideH(), win.strideW());
                 // oneDNN counts dilation from 0 (no dilation), PyTorch from 1.
                 LongPointer dil = new LongPointer(win.dilationH() - 1, win.dilationW() - 1);
                 LongPointer pad = new LongPointer(win.padH(), win.padW())) {
                dnnl_primitive_desc fwd = new dnnl_primitive_desc();
                int status = dnnl_convolution_forward_primitive_desc_create(fwd, e.engine, dnnl_forward_training, dnnl_convolution_direct,
                        s, w, bias, d, strides, dil, pad, pad, attr);
                if (strict && status == dnnl_unimplemented) return null;
                check(status, what);
                dnnl_primitive_desc pd = fwd;
                if (op != ConvOp.FORWARD) {
                    pd = new dnnl_primitive_desc();
                    try {
                        status = op == ConvOp.BACKWARD_DATA
                                ? dnnl_convolution_backward_data_primitive_desc_create(pd, e.engine, dnnl_convolution_direct, s, w, d,
                                        strides, dil, pad, pad, fwd, null)
                                : dnnl_convolution_backward_weights_primitive_desc_create(pd, e.engine, dnnl_convolution_direct, s, w, bias, d,
                                        strides, dil, pad, pad, fwd, null);
                    } finally {
                        dnnl_primitive_desc_destroy(fwd);
                    }
                    if (strict && status == dnnl_unimplemented) return null;
                    check(status, what);
                }
                if (strict && OneDnnTuner.implementation(pd).startsWith("ref")) {
                    dnnl_primitive_desc_destroy(pd);
                    return null;
                }
                return pd;
            } finally {
                OneDnnNative.destroy(s, d, w);
                if (attr != null) dnnl_primitive_attr_destroy(attr);
            }
        }

        /** An f32 descriptor of {@code dims} whose format oneDNN chooses. */
        private dnnl_memory_desc any(long[] dims) {
            dnnl_memory_desc out = new dnnl_memory_desc();
            try (LongPointer d = new LongPointer(dims)) {
                check(dnnl_memory_desc_create_with_tag(out, dims.length, d, dnnl_f32, dnnl_format_tag_any), what);
            }
            return out;
        }

        private dnnl_memory_desc clone(dnnl_memory_desc md) {
            dnnl_memory_desc out = new dnnl_memory_desc();
            check(dnnl_memory_desc_clone(out, md), what);
            return out;
        }
    }

    @Override public void run(MemorySegment[] in, MemorySegment[] out) {
        for (int i = 0; i < inputs; i++) {
            args[i] = reorders[i] == null ? in[i] : reorder(i, in[i], staged[i]);
        }
        for (int j = 0; j < out.length; j++) results[j] = reorders[inputs + j] == null ? out[j] : staged[inputs + j];
        conv.run(args, results);
        for (int j = 0; j < out.length; j++) if (reorders[inputs + j] != null) reorder(inputs + j, staged[inputs + j], out[j]);
    }

    /** Runs operand {@code i}'s reorder from {@code src} to {@code dst}; returns {@code dst}. */
    private MemorySegment reorder(int i, MemorySegment src, MemorySegment dst) {
        from[0] = src;
        to[0] = dst;
        reorders[i].run(from, to);
        return dst;
    }

    @Override public String toString() { return conv.toString(); }
}
