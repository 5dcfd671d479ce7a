package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.TensorType;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/**
 * f32 to bf16 and back as a oneDNN reorder between two dense layouts of different data type:
 * the casts the bf16-mixed policy puts around every contraction, vectorised and rounded to
 * nearest-even by oneDNN.
 */
final class OneDnnCast {
    private OneDnnCast() {}

    static boolean supports(TensorType in, TensorType out) {
        boolean pair = (in.dtype() == DType.F32 && out.dtype() == DType.BF16) || (in.dtype() == DType.BF16 && out.dtype() == DType.F32);
        return pair && in.shape().size() > 0;
    }

    static Kernel create(OneDnnEngine e, String what, TensorType in, TensorType out) {
        long[] flat = {in.shape().size()};
        dnnl_memory_desc src = OneDnnNative.desc(in.dtype(), flat), dst = OneDnnNative.desc(out.dtype(), flat);
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_reorder_primitive_desc_create(pd, src, e.engine, dst, e.engine, null), what);
            return new OneDnnPrimitive(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {src, dst}, 1);
        } finally {
            OneDnnNative.destroy(src, dst);
        }
    }
}
