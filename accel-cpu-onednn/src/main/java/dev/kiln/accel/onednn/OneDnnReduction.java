package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/** Sum and max over any set of axes on oneDNN's reduction primitive (destination keeps the axes as ones). */
final class OneDnnReduction {
    private OneDnnReduction() {}

    static Kernel create(OneDnnEngine e, String what, Primitive.Reduce op, TensorType in) {
        long[] src = OneDnnNative.dims(in.shape());
        long[] dst = src.clone();
        if (in.shape().rank() > 0) for (int a : op.axes()) dst[a] = 1;
        int alg = switch (op.fn()) {
            case SUM -> dnnl_reduction_sum;
            case MAX -> dnnl_reduction_max;
        };
        dnnl_memory_desc ms = OneDnnNative.desc(in.dtype(), src), md = OneDnnNative.desc(in.dtype(), dst);
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_reduction_primitive_desc_create(pd, e.engine, alg, ms, md, 0f, 0f, null), what);
            return new OneDnnPrimitive(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {ms, md}, 1);
        } finally {
            OneDnnNative.destroy(ms, md);
        }
    }
}
