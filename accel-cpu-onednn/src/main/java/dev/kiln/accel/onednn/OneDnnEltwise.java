package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static dev.kiln.accel.onednn.OneDnnNative.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/**
 * Elementwise unary functions on oneDNN's eltwise primitive; negation is {@code linear} with alpha -1.
 * The accelerator keeps log in Java for accuracy, but the mapping stays complete; oneDNN has no erf
 * of its own, only exact GELU.
 */
final class OneDnnEltwise {
    private OneDnnEltwise() {}

    static Kernel create(OneDnnEngine e, String what, UnaryFn fn, TensorType t) {
        int alg = switch (fn) {
            case NEG -> dnnl_eltwise_linear;
            case EXP -> dnnl_eltwise_exp;
            case LOG -> dnnl_eltwise_log;
            case SQRT -> dnnl_eltwise_sqrt;
            case TANH -> dnnl_eltwise_tanh;
            case SIGMOID -> dnnl_eltwise_logistic;
            case RELU -> dnnl_eltwise_relu;
            case ABS -> dnnl_eltwise_abs;
            case GELU -> dnnl_eltwise_gelu_tanh;
            case ERF -> throw new IllegalArgumentException("oneDNN has no erf eltwise: " + what);
        };
        return create(e, what, alg, fn == UnaryFn.NEG ? -1f : 0f, t);
    }

    /** Exact GELU, {@code Composite.Gelu}: oneDNN's {@code gelu_erf}, one vectorised pass. */
    static Kernel geluErf(OneDnnEngine e, String what, TensorType t) { return create(e, what, dnnl_eltwise_gelu_erf, 0f, t); }

    private static Kernel create(OneDnnEngine e, String what, int alg, float alpha, TensorType t) {
        // Elementwise ops see the tensor as flat: one dimension keeps oneDNN on its simplest path.
        dnnl_memory_desc md = desc(t.dtype(), new long[] {t.shape().size()});
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_eltwise_forward_primitive_desc_create(pd, e.engine, dnnl_forward_inference, alg, md, md, alpha, 0f, null), what);
            return new OneDnnPrimitive(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {md, md}, 1);
        } finally {
            OneDnnNative.destroy(md);
        }
    }

    /** An attribute with the activation as an eltwise post-op, or null when there is none. */
    static dnnl_primitive_attr postOp(Composite.Activation act, String what) {
        if (act == Composite.Activation.NONE) return null;
        int alg = switch (act) {
            case RELU -> dnnl_eltwise_relu;
            case TANH -> dnnl_eltwise_tanh;
            case SIGMOID -> dnnl_eltwise_logistic;
            case GELU -> dnnl_eltwise_gelu_tanh;
            case NONE -> throw new AssertionError();
        };
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        dnnl_post_ops ops = new dnnl_post_ops();
        check(dnnl_primitive_attr_create(attr), what);
        try {
            check(dnnl_post_ops_create(ops), what);
            check(dnnl_post_ops_append_eltwise(ops, alg, 0f, 0f), what);
            check(dnnl_primitive_attr_set_post_ops(attr, ops), what);
            return attr;
        } catch (RuntimeException ex) {
            dnnl_primitive_attr_destroy(attr);
            throw ex;
        } finally {
            if (!ops.isNull()) dnnl_post_ops_destroy(ops);
        }
    }
}
