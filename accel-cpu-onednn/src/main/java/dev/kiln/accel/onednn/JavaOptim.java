package dev.kiln.accel.onednn;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Optimizer updates as one pass per parameter: each element of the parameter, gradient and
 * state is read once, updated in registers and written once, with no temporaries (the
 * decomposition runs a dozen kernels per parameter). Every element is read before it is
 * written, so outputs may be the input buffers (in place). The loops themselves are in
 * {@link OptimLoops}: Vector API where the JVM has it, scalar otherwise, with identical results.
 */
final class JavaOptim {
    private JavaOptim() {}

    /**
     * Elements per call of a loop body. The body is compiled once it has been called often,
     * which chunking reaches within the first steps; one loop over 100k elements waits for
     * on-stack replacement and spent tens of milliseconds per step interpreted until then.
     * A multiple of every vector length, so only the last chunk has a scalar tail.
     */
    static final int CHUNK = 1024;

    /** Inputs param, grad, m, v, lr, step; outputs param', m', v'. */
    static Kernel adam(Composite.AdamUpdate op, long size) {
        float b1 = (float) op.beta1(), b2 = (float) op.beta2(), eps = (float) op.eps(), wd = (float) op.weightDecay();
        double beta1 = op.beta1(), beta2 = op.beta2(), decay = op.weightDecay();
        float nb1 = (float) (1 - op.beta1()), nb2 = (float) (1 - op.beta2());
        boolean decoupled = op.decoupled() && wd != 0, coupled = !op.decoupled() && wd != 0;
        OptimLoops loops = OptimLoops.chosen();
        return new InPlace(4) {
            @Override public void run(MemorySegment[] in, MemorySegment[] out) {
                float lr = in[4].get(ValueLayout.JAVA_FLOAT, 0), t = in[5].get(ValueLayout.JAVA_FLOAT, 0);
                // The step's scalars in double from the unrounded betas, each rounded once, as PyTorch's
                // Python floats and Composite.AdamUpdate: p -= a * m / (sqrt(v) / c2 + eps).
                float a = (float) (lr / (1 - Math.pow(beta1, t))), c2 = (float) Math.sqrt(1 - Math.pow(beta2, t));
                float shrink = decoupled ? (float) (1 - lr * decay) : 1, l2 = coupled ? wd : 0;
                for (long i = 0; i < size; i += CHUNK) {
                    loops.adam(in, out, i, Math.min(size, i + CHUNK), shrink, l2, b1, nb1, b2, nb2, a, c2, eps);
                }
            }
        };
    }

    /** Inputs param, grad, velocity, lr; outputs param', velocity'. */
    static Kernel sgd(Composite.SgdUpdate op, long size) {
        float mom = (float) op.momentum(), wd = (float) op.weightDecay();
        boolean nesterov = op.nesterov();
        OptimLoops loops = OptimLoops.chosen();
        return new InPlace(3) {
            @Override public void run(MemorySegment[] in, MemorySegment[] out) {
                float lr = in[3].get(ValueLayout.JAVA_FLOAT, 0);
                for (long i = 0; i < size; i += CHUNK) loops.sgd(in, out, i, Math.min(size, i + CHUNK), lr, wd, mom, nesterov);
            }
        };
    }

    /** A kernel whose first {@code tensors} inputs may share memory with any output. */
    private abstract static class InPlace implements Kernel {
        private final int tensors;

        InPlace(int tensors) { this.tensors = tensors; }

        @Override public boolean inPlace(int input, int output) { return input < tensors; }
    }
}
