package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static dev.kiln.accel.onednn.OneDnnNative.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.accel.onednn.JavaWindows.ConvOp;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Window2d;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;

/**
 * The three convolution ops on oneDNN's convolution forward, backward-data and backward-weights
 * primitives, on plain NCHW/OIHW memory (the IR's layout, so no reorders). A grouped weight
 * [o, c/g, kh, kw] is the same memory as oneDNN's [g, o/g, c/g, kh, kw]. The backward primitives
 * need a forward descriptor as a hint; it is created and dropped here.
 */
final class OneDnnConv {
    private OneDnnConv() {}

    static Kernel create(OneDnnEngine e, String what, ConvOp op, Window2d win, int groups, DType t, Shape x, Shape weight) {
        long[] xd = OneDnnNative.dims(x);
        long[] yd = {x.dim(0), weight.dim(0), win.outH(x.dim(2)), win.outW(x.dim(3))};
        long[] wd = groups == 1 ? OneDnnNative.dims(weight)
                : new long[] {groups, weight.dim(0) / groups, weight.dim(1), weight.dim(2), weight.dim(3)};
        dnnl_memory_desc src = desc(t, xd), wei = desc(t, wd), dst = desc(t, yd);
        try (LongPointer strides = new LongPointer(win.strideH(), win.strideW());
             // oneDNN counts dilation from 0 (no dilation), PyTorch from 1.
             LongPointer dil = new LongPointer(win.dilationH() - 1, win.dilationW() - 1);
             LongPointer pad = new LongPointer(win.padH(), win.padW())) {
            dnnl_primitive_desc fwd = new dnnl_primitive_desc();
            check(dnnl_convolution_forward_primitive_desc_create(fwd, e.engine, op == ConvOp.FORWARD ? dnnl_forward_inference : dnnl_forward_training,
                    dnnl_convolution_direct, src, wei, null, dst, strides, dil, pad, pad, null), what);
            if (op == ConvOp.FORWARD) {
                return new OneDnnPrimitive(e, what, fwd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}, new dnnl_memory_desc[] {src, wei, dst}, 2);
            }
            dnnl_primitive_desc bwd = new dnnl_primitive_desc();
            try {
                if (op == ConvOp.BACKWARD_DATA) {
                    check(dnnl_convolution_backward_data_primitive_desc_create(bwd, e.engine, dnnl_convolution_direct, src, wei, dst,
                            strides, dil, pad, pad, fwd, null), what);
                } else {
                    check(dnnl_convolution_backward_weights_primitive_desc_create(bwd, e.engine, dnnl_convolution_direct, src, wei, null, dst,
                            strides, dil, pad, pad, fwd, null), what);
                }
            } finally {
                dnnl_primitive_desc_destroy(fwd);
            }
            // Argument order follows the IR op's inputs: (dy, w) -> dx and (x, dy) -> dw.
            return op == ConvOp.BACKWARD_DATA
                    ? new OneDnnPrimitive(e, what, bwd, new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC}, new dnnl_memory_desc[] {dst, wei, src}, 2)
                    : new OneDnnPrimitive(e, what, bwd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS}, new dnnl_memory_desc[] {src, dst, wei}, 2);
        } finally {
            OneDnnNative.destroy(src, wei, dst);
        }
    }
}
