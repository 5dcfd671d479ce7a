package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import java.util.Collections;
import java.util.List;

/**
 * Fused optimizer steps: one pass over parameter, gradient and state instead of the dozen
 * elementwise kernels their decompositions make. Same arithmetic, in the same order, as
 * {@link Composite.AdamUpdate#decompose} and {@link Composite.SgdUpdate#decompose}; the
 * hyperparameters are baked into the source (as the decomposition's constants are).
 */
final class OptimizerKernels {
    private OptimizerKernels() {}

    /**
     * Inputs p, g, m, v, lr, step; outputs p', m', v'. The step's scalars are computed in double
     * and rounded once, as the decomposition does: every thread repeats that arithmetic, which is
     * free next to the memory traffic where double runs at half the float rate (data-centre
     * GPUs) and a few nanoseconds per element where it runs at 1/64 (consumer GPUs).
     */
    static MapKernel adam(Composite.AdamUpdate op, DType t) {
        String c = CudaTypes.compute(t);
        StringBuilder b = new StringBuilder(c + " p = a0, g = a1;\ndouble lr = (double) a4, t = (double) a5;\n");
        if (op.weightDecay() != 0 && op.decoupled()) b.append("p = p * (").append(c).append(") (1.0 - lr * ").append(op.weightDecay()).append(");\n");
        if (op.weightDecay() != 0 && !op.decoupled()) b.append("g = g + p * ").append(lit(c, op.weightDecay())).append(";\n");
        b.append(c).append(" m2 = a2 * ").append(lit(c, op.beta1())).append(" + g * ").append(lit(c, 1 - op.beta1())).append(";\n");
        b.append(c).append(" v2 = a3 * ").append(lit(c, op.beta2())).append(" + g * ").append(lit(c, 1 - op.beta2())).append(" * g;\n");
        b.append(c).append(" ss = (").append(c).append(") (lr / (1.0 - pow(").append(op.beta1()).append(", t)));\n");
        b.append(c).append(" c2 = (").append(c).append(") sqrt(1.0 - pow(").append(op.beta2()).append(", t));\n");
        b.append(c).append(" den = ").append(CudaTypes.math(t, "sqrt")).append("(v2) / c2 + ").append(lit(c, op.eps())).append(";\n");
        b.append("r0 = p - (m2 * ss) / den;\nr1 = m2;\nr2 = v2;");
        return new MapKernel("adam_" + t.label(), List.of(t, t, t, t, t, t), Collections.nCopies(3, t), b.toString());
    }

    /** Inputs p, g, velocity, lr; outputs p', velocity'. */
    static MapKernel sgd(Composite.SgdUpdate op, DType t) {
        String c = CudaTypes.compute(t);
        StringBuilder b = new StringBuilder(c + " g = a1;\n");
        if (op.weightDecay() != 0) b.append("g = g + a0 * ").append(lit(c, op.weightDecay())).append(";\n");
        b.append(c).append(" v2 = ").append(op.momentum() == 0 ? "g" : "a2 * " + lit(c, op.momentum()) + " + g").append(";\n");
        b.append(c).append(" step = ").append(op.nesterov() ? "g + v2 * " + lit(c, op.momentum()) : "v2").append(";\n");
        b.append("r0 = a0 - step * a3;\nr1 = v2;");
        return new MapKernel("sgd_" + t.label(), List.of(t, t, t, t), Collections.nCopies(2, t), b.toString());
    }

    /** A constant rounded to the compute type once, as a Fill of that dtype would be. */
    private static String lit(String c, double v) { return "((" + c + ") " + Double.toString(v) + ")"; }
}
