package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.TensorType;

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
        return OneDnnReorder.reorder(e, what, OneDnnNative.desc(in.dtype(), flat), OneDnnNative.desc(out.dtype(), flat));
    }
}
