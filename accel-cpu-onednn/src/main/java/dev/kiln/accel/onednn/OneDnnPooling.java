package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Window2d;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;

/**
 * Max and average pooling on oneDNN's pooling primitives, all operands in one {@link MemoryFormat}:
 * the forward of the MaxPool2d and AvgPool2d composites (inference: nothing kept), the forward of
 * max pooling for training, which also writes the workspace (where each maximum was), and the two
 * backward passes: max pooling's reads that workspace instead of searching the windows again,
 * average pooling's spreads each gradient over its window (padding counted in the divisor).
 */
final class OneDnnPooling {
    private OneDnnPooling() {}

    /** Pooling forward of x[n, c, h, w] into y, nothing kept. */
    static Kernel forward(OneDnnEngine e, String what, boolean max, Window2d win, Shape x, Shape y, MemoryFormat f) {
        Window w = new Window(e, what, max, win, x, y, f);
        dnnl_primitive_desc pd = w.forward(dnnl_forward_inference);
        return w.primitive(pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {w.src, w.dst}, 1);
    }

    /** Max pooling forward into y and the workspace, which must have {@code workspaceBytes}. */
    static Kernel train(OneDnnEngine e, String what, Window2d win, Shape x, Shape y, long workspaceBytes, MemoryFormat f) {
        Window w = new Window(e, what, true, win, x, y, f);
        dnnl_primitive_desc pd = w.forward(dnnl_forward_training);
        dnnl_memory_desc ws = dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0);
        if (dnnl_memory_desc_get_size(ws) != workspaceBytes) {
            dnnl_primitive_desc_destroy(pd);
            w.destroy();
            throw new IllegalStateException(what + ": oneDNN's workspace takes " + dnnl_memory_desc_get_size(ws) + " bytes, the plan gave it " + workspaceBytes);
        }
        return w.primitive(pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST, DNNL_ARG_WORKSPACE}, new dnnl_memory_desc[] {w.src, w.dst, ws}, 1);
    }

    /** Max pooling backward: (workspace, dy) to dx, the workspace from {@link #train} on the same shapes and format. */
    static Kernel maxGrad(OneDnnEngine e, String what, Window2d win, Shape x, Shape y, MemoryFormat f) {
        Window w = new Window(e, what, true, win, x, y, f);
        dnnl_primitive_desc pd = w.backward();
        return w.primitive(pd, new int[] {DNNL_ARG_WORKSPACE, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC},
                new dnnl_memory_desc[] {dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0), w.dst, w.src}, 2);
    }

    /** Average pooling backward: dy to dx. */
    static Kernel avgGrad(OneDnnEngine e, String what, Window2d win, Shape x, Shape y, MemoryFormat f) {
        Window w = new Window(e, what, false, win, x, y, f);
        dnnl_primitive_desc pd = w.backward();
        return w.primitive(pd, new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}, new dnnl_memory_desc[] {w.dst, w.src}, 1);
    }

    /** One pooling geometry: its descriptors (destroyed once its primitive exists) and how to make its primitive descriptors. */
    private static final class Window {
        final OneDnnEngine e;
        final String what;
        final int alg;
        final Window2d win;
        final dnnl_memory_desc src, dst;

        Window(OneDnnEngine e, String what, boolean max, Window2d win, Shape x, Shape y, MemoryFormat f) {
            this.e = e;
            this.what = what;
            this.alg = max ? dnnl_pooling_max : dnnl_pooling_avg_include_padding;
            this.win = win;
            this.src = f.desc(DType.F32, OneDnnNative.dims(x));
            this.dst = f.desc(DType.F32, OneDnnNative.dims(y));
        }

        dnnl_primitive_desc forward(int prop) {
            return create((pd, strides, kernel, dil, pad) ->
                    dnnl_pooling_forward_primitive_desc_create(pd, e.engine, prop, alg, src, dst, strides, kernel, dil, pad, pad, null));
        }

        /** The backward descriptor, with the training forward as its hint. */
        dnnl_primitive_desc backward() {
            dnnl_primitive_desc hint = forward(dnnl_forward_training);
            try {
                return create((pd, strides, kernel, dil, pad) ->
                        dnnl_pooling_backward_primitive_desc_create(pd, e.engine, alg, src, dst, strides, kernel, dil, pad, pad, hint, null));
            } finally {
                dnnl_primitive_desc_destroy(hint);
            }
        }

        /** How oneDNN is asked for one descriptor of this window; returns its status. */
        private interface Creation {
            int create(dnnl_primitive_desc pd, LongPointer strides, LongPointer kernel, LongPointer dilation, LongPointer padding);
        }

        /** A descriptor of this window's geometry; frees the geometry's descriptors if it fails. */
        private dnnl_primitive_desc create(Creation c) {
            try (LongPointer strides = new LongPointer(win.strideH(), win.strideW());
                 LongPointer kernel = new LongPointer(win.kernelH(), win.kernelW());
                 // oneDNN counts dilation from 0 (no dilation), PyTorch from 1.
                 LongPointer dil = new LongPointer(win.dilationH() - 1, win.dilationW() - 1);
                 LongPointer pad = new LongPointer(win.padH(), win.padW())) {
                dnnl_primitive_desc pd = new dnnl_primitive_desc();
                check(c.create(pd, strides, kernel, dil, pad), what);
                return pd;
            } catch (RuntimeException ex) {
                destroy();
                throw ex;
            }
        }

        /** The primitive of {@code pd} (which it takes over); frees this geometry's descriptors. */
        Kernel primitive(dnnl_primitive_desc pd, int[] args, dnnl_memory_desc[] mds, int inputs) {
            try {
                return new OneDnnPrimitive(e, what, pd, args, mds, inputs);
            } finally {
                destroy();
            }
        }

        void destroy() { OneDnnNative.destroy(src, dst); }
    }
}
