package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static dev.kiln.accel.onednn.OneDnnNative.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/** Matrix products on oneDNN's matmul: transposes are strides, Linear's bias and activation are fused. */
final class OneDnnMatmul {
    private OneDnnMatmul() {}

    static Kernel matmul(OneDnnEngine e, String what, Primitive.MatMul op, TensorType a, TensorType b, TensorType out) {
        dnnl_memory_desc src = view(a, op.transA()), wei = view(b, op.transB()), dst = desc(out.dtype(), OneDnnNative.dims(out.shape()));
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_matmul_primitive_desc_create(pd, e.engine, src, wei, null, dst, null), what);
            return OneDnnTuner.fastest(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {src, wei, dst}, 2);
        } finally {
            OneDnnNative.destroy(src, wei, dst);
        }
    }

    /** {@code act(x @ w^T + bias)}: w[out, in] is read as an [in, out] matrix with column-major strides. */
    static Kernel linear(OneDnnEngine e, String what, Composite.Linear op, TensorType x, TensorType w, TensorType out) {
        DType t = x.dtype();
        int n = x.shape().dim(0), in = x.shape().dim(1), o = w.shape().dim(0);
        dnnl_memory_desc src = desc(t, new long[] {n, in});
        dnnl_memory_desc wei = desc(t, new long[] {in, o}, new long[] {1, in});
        dnnl_memory_desc bias = desc(t, new long[] {1, o});
        dnnl_memory_desc dst = desc(t, new long[] {n, o});
        dnnl_primitive_attr attr = OneDnnEltwise.postOp(op.activation(), what);
        return withBias(e, what, src, wei, bias, dst, attr);
    }

    /** {@code act(op(a) @ op(b) + bias)} for rank-2 operands, bias of n elements: a fused matmul with bias and post-op. */
    static Kernel matmulBias(OneDnnEngine e, String what, FusedOps.MatMulBias op, TensorType a, TensorType b, TensorType out) {
        dnnl_memory_desc src = view(a, op.transA()), wei = view(b, op.transB());
        dnnl_memory_desc bias = desc(out.dtype(), new long[] {1, out.shape().dim(1)});
        dnnl_memory_desc dst = desc(out.dtype(), OneDnnNative.dims(out.shape()));
        dnnl_primitive_attr attr = OneDnnEltwise.postOp(op.activation(), what);
        return withBias(e, what, src, wei, bias, dst, attr);
    }

    /**
     * {@code act(op(a) @ op(b) [+ bias])} on bf16 or f16 operands with an f32 result: oneDNN
     * accumulates in f32 and writes f32, so no product is rounded to the operands' type.
     */
    static Kernel low(OneDnnEngine e, String what, FusedOps.LowMatMul op, TensorType a, TensorType b, TensorType bias, TensorType out) {
        dnnl_memory_desc src = view(a, op.transA()), wei = view(b, op.transB());
        dnnl_memory_desc bia = op.bias() ? desc(bias.dtype(), new long[] {1, out.shape().dim(1)}) : null;
        dnnl_memory_desc dst = desc(DType.F32, OneDnnNative.dims(out.shape()));
        return withBias(e, what, src, wei, bia, dst, OneDnnEltwise.postOp(op.activation(), what));
    }

    /** A matmul with a bias unless it is null (and the attribute's post-op); destroys the descriptors and the attribute. */
    private static Kernel withBias(OneDnnEngine e, String what, dnnl_memory_desc src, dnnl_memory_desc wei, dnnl_memory_desc bias,
                                   dnnl_memory_desc dst, dnnl_primitive_attr attr) {
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_matmul_primitive_desc_create(pd, e.engine, src, wei, bias, dst, attr), what);
            if (bias == null) {
                return OneDnnTuner.fastest(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}, new dnnl_memory_desc[] {src, wei, dst}, 2);
            }
            return OneDnnTuner.fastest(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {src, wei, bias, dst}, 3);
        } finally {
            OneDnnNative.destroy(src, wei, bias, dst);
            if (attr != null) dnnl_primitive_attr_destroy(attr);
        }
    }

    /** The operand as oneDNN should read it: logical dims after the optional transpose, with the stored strides. */
    private static dnnl_memory_desc view(TensorType t, boolean transpose) {
        Shape s = t.shape();
        long[] dims = OneDnnNative.dims(s);
        long[] strides = OneDnnNative.rowMajorStrides(dims);
        if (transpose) {
            int r = dims.length;
            swap(dims, r - 2, r - 1);
            swap(strides, r - 2, r - 1);
        }
        return desc(t.dtype(), dims, strides);
    }

    private static void swap(long[] v, int i, int j) {
        long x = v[i];
        v[i] = v[j];
        v[j] = x;
    }
}
