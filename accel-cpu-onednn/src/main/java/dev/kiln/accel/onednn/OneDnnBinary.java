package dev.kiln.accel.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.TensorType;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/**
 * Arithmetic on oneDNN's binary primitive. oneDNN broadcasts only its second source, so a
 * broadcast first operand is swapped into second place when the function commutes; otherwise
 * (and for pow and comparisons) {@link #create} returns null and a Java kernel does the work.
 */
final class OneDnnBinary {
    private OneDnnBinary() {}

    static Kernel create(OneDnnEngine e, String what, BinaryFn fn, TensorType a, TensorType b, TensorType out) {
        int alg = switch (fn) {
            case ADD -> dnnl_binary_add;
            case SUB -> dnnl_binary_sub;
            case MUL -> dnnl_binary_mul;
            case DIV -> dnnl_binary_div;
            case MAX -> dnnl_binary_max;
            case MIN -> dnnl_binary_min;
            case POW, EQ, GT, LT -> -1;
        };
        if (alg < 0) return null;
        boolean commutes = fn != BinaryFn.SUB && fn != BinaryFn.DIV;
        boolean swap;
        if (a.shape().equals(out.shape())) swap = false;
        else if (b.shape().equals(out.shape()) && commutes) swap = true;
        else return null;
        int rank = Math.max(1, out.shape().rank());
        dnnl_memory_desc ma = OneDnnNative.desc(a.dtype(), padded(a.shape(), rank));
        dnnl_memory_desc mb = OneDnnNative.desc(b.dtype(), padded(b.shape(), rank));
        dnnl_memory_desc mo = OneDnnNative.desc(out.dtype(), padded(out.shape(), rank));
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            int status = swap ? dnnl_binary_primitive_desc_create(pd, e.engine, alg, mb, ma, mo, null)
                    : dnnl_binary_primitive_desc_create(pd, e.engine, alg, ma, mb, mo, null);
            // A broadcast pattern this oneDNN build has no implementation for is not an error: Java takes it.
            if (status == dnnl_unimplemented) return null;
            OneDnnNative.check(status, what);
            int[] kinds = swap ? new int[] {DNNL_ARG_SRC_1, DNNL_ARG_SRC_0, DNNL_ARG_DST} : new int[] {DNNL_ARG_SRC_0, DNNL_ARG_SRC_1, DNNL_ARG_DST};
            return new OneDnnPrimitive(e, what, pd, kinds, new dnnl_memory_desc[] {ma, mb, mo}, 2);
        } finally {
            OneDnnNative.destroy(ma, mb, mo);
        }
    }

    /** {@code s} with leading ones up to {@code rank}, as NumPy aligns shapes from the right. */
    static long[] padded(Shape s, int rank) {
        long[] d = new long[rank];
        java.util.Arrays.fill(d, 1);
        for (int i = 0; i < s.rank(); i++) d[rank - s.rank() + i] = s.dim(i);
        return d;
    }
}
