package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.TensorType;
import java.util.List;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/** Axis permutations as a oneDNN reorder from a strided view of the input to a dense output. */
final class OneDnnReorder {
    private OneDnnReorder() {}

    /** Whether a reorder can move this dtype; the 4-byte integer travels as s32, bit for bit. */
    static boolean supports(DType t) { return t == DType.F32 || t == DType.I32; }

    static Kernel permute(OneDnnEngine e, String what, List<Integer> perm, TensorType in, TensorType out) {
        long[] inStrides = OneDnnNative.rowMajorStrides(OneDnnNative.dims(in.shape()));
        long[] dims = OneDnnNative.dims(out.shape());
        long[] strides = new long[dims.length];
        for (int i = 0; i < perm.size(); i++) strides[i] = inStrides[perm.get(i)];
        if (perm.isEmpty()) strides[0] = 1;
        return reorder(e, what, OneDnnNative.desc(in.dtype(), dims, strides), OneDnnNative.desc(out.dtype(), dims));
    }

    /** A reorder from {@code src} to {@code dst} (layout, data type or both); destroys both descriptors. */
    static Kernel reorder(OneDnnEngine e, String what, dnnl_memory_desc src, dnnl_memory_desc dst) {
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_reorder_primitive_desc_create(pd, src, e.engine, dst, e.engine, null), what);
            return new OneDnnPrimitive(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {src, dst}, 1);
        } finally {
            OneDnnNative.destroy(src, dst);
        }
    }
}
