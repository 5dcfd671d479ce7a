package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;

/**
 * Batch normalisation on oneDNN's batch-normalization primitives, x[n, c, ...] in one
 * {@link MemoryFormat}, gamma and beta as oneDNN's scale and shift. Evaluation normalises with the
 * running statistics; training normalises with the batch's mean and biased variance, which
 * oneDNN writes, and updates the running statistics from them here as PyTorch does (the
 * variance unbiased); the gradient reads the batch statistics, given or computed again.
 */
final class OneDnnBatchNorm implements Kernel {
    private static final int SCALE_SHIFT = dnnl_use_scale | dnnl_use_shift;

    private final OneDnnPrimitive forward;
    private final double momentum, unbias;
    private final int channels;
    /** The batch statistics when the node does not output them; else null. */
    private final MemorySegment mean, var;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] args = new MemorySegment[3], results = new MemorySegment[3];

    private OneDnnBatchNorm(OneDnnPrimitive forward, double momentum, TensorType x, boolean statsOut) {
        this.forward = forward;
        this.momentum = momentum;
        this.channels = x.shape().dim(1);
        long count = x.shape().size() / channels;
        this.unbias = count / (count - 1.0);
        this.mean = statsOut ? null : arena.allocate(4L * channels, 64);
        this.var = statsOut ? null : arena.allocate(4L * channels, 64);
    }

    /**
     * The {@link Composite.BatchNorm} forward: inputs x, gamma, beta, running mean and variance;
     * outputs y (and in training the new running statistics, then with {@code statsOut} the batch
     * mean and variance).
     */
    static Kernel forward(OneDnnEngine e, String what, Composite.BatchNorm op, TensorType x, MemoryFormat f, boolean statsOut) {
        dnnl_memory_desc src = f.desc(DType.F32, OneDnnNative.dims(x.shape()));
        try {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            int flags = op.training() ? SCALE_SHIFT : SCALE_SHIFT | dnnl_use_global_stats;
            check(dnnl_batch_normalization_forward_primitive_desc_create(pd, e.engine, op.training() ? dnnl_forward_training : dnnl_forward_inference,
                    src, src, (float) op.eps(), flags, null), what);
            dnnl_memory_desc stat = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_MEAN);
            if (!op.training()) {
                return new OneDnnPrimitive(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_DST},
                        new dnnl_memory_desc[] {src, stat, stat, stat, stat, src}, 5);
            }
            OneDnnPrimitive p = new OneDnnPrimitive(e, what, pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_DST, DNNL_ARG_MEAN,
                    DNNL_ARG_VARIANCE}, new dnnl_memory_desc[] {src, stat, stat, src, stat, stat}, 3);
            return new OneDnnBatchNorm(p, op.momentum(), x, statsOut);
        } finally {
            OneDnnNative.destroy(src);
        }
    }

    /**
     * The gradient: inputs x, gamma, then with {@code statsIn} the batch mean and variance, then dy;
     * outputs dx, dgamma, dbeta. Without the statistics they are computed again from x first.
     */
    static Kernel backward(OneDnnEngine e, String what, double eps, TensorType x, MemoryFormat f, boolean statsIn) {
        dnnl_memory_desc src = f.desc(DType.F32, OneDnnNative.dims(x.shape()));
        dnnl_primitive_desc hint = new dnnl_primitive_desc(), pd = new dnnl_primitive_desc();
        try {
            check(dnnl_batch_normalization_forward_primitive_desc_create(hint, e.engine, dnnl_forward_training, src, src, (float) eps, SCALE_SHIFT, null), what);
            check(dnnl_batch_normalization_backward_primitive_desc_create(pd, e.engine, dnnl_backward, src, src, src, (float) eps, SCALE_SHIFT, hint, null), what);
            dnnl_memory_desc stat = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_MEAN);
            OneDnnPrimitive grad = new OneDnnPrimitive(e, what, pd,
                    new int[] {DNNL_ARG_SRC, DNNL_ARG_SCALE, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC, DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT},
                    new dnnl_memory_desc[] {src, stat, stat, stat, src, src, stat, stat}, 5);
            if (statsIn) return grad;
            try {
                Kernel stats = forward(e, what + " (batch statistics)", new Composite.BatchNorm(true, 0, eps), x, f, true);
                return new Recomputed(stats, grad, x);
            } catch (RuntimeException ex) {
                grad.close();
                throw ex;
            }
        } finally {
            dnnl_primitive_desc_destroy(hint);
            OneDnnNative.destroy(src);
        }
    }

    @Override public void run(MemorySegment[] in, MemorySegment[] out) {
        MemorySegment m = mean != null ? mean : out[3], v = var != null ? var : out[4];
        System.arraycopy(in, 0, args, 0, 3);
        results[0] = out[0];
        results[1] = m;
        results[2] = v;
        forward.run(args, results);
        float keep = (float) (1 - momentum), take = (float) momentum;
        for (int c = 0; c < channels; c++) {
            long at = 4L * c;
            // Each running statistic is read before its own element is written: it may be updated in place.
            out[1].set(ValueLayout.JAVA_FLOAT, at, keep * in[3].get(ValueLayout.JAVA_FLOAT, at) + take * m.get(ValueLayout.JAVA_FLOAT, at));
            out[2].set(ValueLayout.JAVA_FLOAT, at, keep * in[4].get(ValueLayout.JAVA_FLOAT, at) + take * (float) (v.get(ValueLayout.JAVA_FLOAT, at) * unbias));
        }
    }

    @Override public boolean inPlace(int input, int output) { return input == output + 2 && (output == 1 || output == 2); }

    @Override public void close() {
        forward.close();
        if (arena.scope().isAlive()) arena.close();
    }

    /** The gradient without given statistics: a training forward into scratch memory, then the backward. */
    private static final class Recomputed implements Kernel {
        private final Kernel stats;
        private final OneDnnPrimitive grad;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment[] statsIn, statsOut, gradIn = new MemorySegment[5];

        Recomputed(Kernel stats, OneDnnPrimitive grad, TensorType x) {
            this.stats = stats;
            this.grad = grad;
            long c = 4L * x.shape().dim(1);
            MemorySegment zeros = arena.allocate(c, 64), ones = arena.allocate(c, 64);
            for (long i = 0; i < c; i += 4) ones.set(ValueLayout.JAVA_FLOAT, i, 1f);
            // x itself is bound per run; gamma 1 and beta 0 (y is not used), running statistics scratch.
            statsIn = new MemorySegment[] {null, ones, zeros, zeros, zeros};
            statsOut = new MemorySegment[] {arena.allocate(x.byteSize(), 64), arena.allocate(c, 64), arena.allocate(c, 64),
                    arena.allocate(c, 64), arena.allocate(c, 64)};
        }

        @Override public void run(MemorySegment[] in, MemorySegment[] out) {
            statsIn[0] = in[0];
            stats.run(statsIn, statsOut);
            gradIn[0] = in[0];
            gradIn[1] = in[1];
            gradIn[2] = statsOut[3];
            gradIn[3] = statsOut[4];
            gradIn[4] = in[2];
            grad.run(gradIn, out);
        }

        @Override public void close() {
            try {
                stats.close();
                grad.close();
            } finally {
                if (arena.scope().isAlive()) arena.close();
            }
        }
    }
}
