package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.TensorType;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/** Softmax and log-softmax along one axis on oneDNN's softmax primitive, a native composite. */
final class OneDnnSoftmax {
    private OneDnnSoftmax() {}

    static Kernel create(OneDnnEngine e, String what, int axis, boolean log, TensorType t) {
        dnnl_memory_desc md = OneDnnNative.desc(t.dtype(), OneDnnNative.dims(t.shape()));
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_softmax_forward_primitive_desc_create(pd, e.engine, dnnl_forward_inference,
                    log ? dnnl_softmax_log : dnnl_softmax_accurate, md, md, axis, null), what);
            return new OneDnnPrimitive(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {md, md}, 1);
        } finally {
            OneDnnNative.destroy(md);
        }
    }
}
