package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static dev.kiln.accel.onednn.OneDnnNative.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Window2d;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;

/**
 * Max and average pooling forward on oneDNN's pooling primitive, for the MaxPool2d and AvgPool2d
 * composites. Inference mode: the backward passes use the IR's own rules (scattered argmax,
 * transposed depthwise convolution), so no workspace is kept.
 */
final class OneDnnPooling {
    private OneDnnPooling() {}

    static Kernel create(OneDnnEngine e, String what, boolean max, Window2d win, TensorType x, TensorType y) {
        dnnl_memory_desc src = desc(x.dtype(), OneDnnNative.dims(x.shape())), dst = desc(y.dtype(), OneDnnNative.dims(y.shape()));
        try (LongPointer strides = new LongPointer(win.strideH(), win.strideW());
             LongPointer kernel = new LongPointer(win.kernelH(), win.kernelW());
             LongPointer dil = new LongPointer(win.dilationH() - 1, win.dilationW() - 1);
             LongPointer pad = new LongPointer(win.padH(), win.padW())) {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_pooling_forward_primitive_desc_create(pd, e.engine, dnnl_forward_inference,
                    max ? dnnl_pooling_max : dnnl_pooling_avg_include_padding, src, dst, strides, kernel, dil, pad, pad, null), what);
            return new OneDnnPrimitive(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {src, dst}, 1);
        } finally {
            OneDnnNative.destroy(src, dst);
        }
    }
}
