package dev.kiln.accel.onednn;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Optimizer updates as one pass per parameter over f32 blocks: each block of the parameter,
 * gradient and state is read once, updated and written once, with no temporaries (the
 * decomposition runs a dozen kernels per parameter). The loops are plain float loops, which the
 * JIT vectorises, so the plugin does not need the incubating Vector API module at run time.
 * Every block is read before it is written, so outputs may be the input buffers (in place).
 */
final class JavaOptim {
    private JavaOptim() {}

    private static final int BLOCK = 2048;

    /** Inputs param, grad, m, v, lr, step; outputs param', m', v'. */
    static Kernel adam(Composite.AdamUpdate op, long size) {
        float b1 = (float) op.beta1(), b2 = (float) op.beta2(), eps = (float) op.eps(), wd = (float) op.weightDecay();
        float nb1 = (float) (1 - op.beta1()), nb2 = (float) (1 - op.beta2());
        boolean decoupled = op.decoupled() && wd != 0, coupled = !op.decoupled() && wd != 0;
        float[] p = new float[BLOCK], g = new float[BLOCK], m = new float[BLOCK], v = new float[BLOCK];
        return new InPlace(4) {
            @Override public void run(MemorySegment[] in, MemorySegment[] out) {
                float lr = in[4].get(ValueLayout.JAVA_FLOAT, 0), t = in[5].get(ValueLayout.JAVA_FLOAT, 0);
                float c1 = (float) (1 - Math.pow(b1, t)), c2 = (float) (1 - Math.pow(b2, t));
                float shrink = 1 - lr * wd;
                for (long i = 0; i < size; i += BLOCK) {
                    int n = (int) Math.min(BLOCK, size - i);
                    long at = i * 4;
                    MemorySegment.copy(in[0], ValueLayout.JAVA_FLOAT, at, p, 0, n);
                    MemorySegment.copy(in[1], ValueLayout.JAVA_FLOAT, at, g, 0, n);
                    MemorySegment.copy(in[2], ValueLayout.JAVA_FLOAT, at, m, 0, n);
                    MemorySegment.copy(in[3], ValueLayout.JAVA_FLOAT, at, v, 0, n);
                    if (decoupled) for (int k = 0; k < n; k++) p[k] *= shrink;
                    if (coupled) for (int k = 0; k < n; k++) g[k] += p[k] * wd;
                    for (int k = 0; k < n; k++) {
                        float mk = m[k] * b1 + g[k] * nb1;
                        float vk = v[k] * b2 + g[k] * g[k] * nb2;
                        m[k] = mk;
                        v[k] = vk;
                        p[k] -= mk / c1 / ((float) Math.sqrt(vk / c2) + eps) * lr;
                    }
                    MemorySegment.copy(p, 0, out[0], ValueLayout.JAVA_FLOAT, at, n);
                    MemorySegment.copy(m, 0, out[1], ValueLayout.JAVA_FLOAT, at, n);
                    MemorySegment.copy(v, 0, out[2], ValueLayout.JAVA_FLOAT, at, n);
                }
            }
        };
    }

    /** Inputs param, grad, velocity, lr; outputs param', velocity'. */
    static Kernel sgd(Composite.SgdUpdate op, long size) {
        float mom = (float) op.momentum(), wd = (float) op.weightDecay();
        boolean nesterov = op.nesterov();
        float[] p = new float[BLOCK], g = new float[BLOCK], v = new float[BLOCK];
        return new InPlace(3) {
            @Override public void run(MemorySegment[] in, MemorySegment[] out) {
                float lr = in[3].get(ValueLayout.JAVA_FLOAT, 0);
                for (long i = 0; i < size; i += BLOCK) {
                    int n = (int) Math.min(BLOCK, size - i);
                    long at = i * 4;
                    MemorySegment.copy(in[0], ValueLayout.JAVA_FLOAT, at, p, 0, n);
                    MemorySegment.copy(in[1], ValueLayout.JAVA_FLOAT, at, g, 0, n);
                    MemorySegment.copy(in[2], ValueLayout.JAVA_FLOAT, at, v, 0, n);
                    if (wd != 0) for (int k = 0; k < n; k++) g[k] += p[k] * wd;
                    if (mom == 0) System.arraycopy(g, 0, v, 0, n);
                    else for (int k = 0; k < n; k++) v[k] = v[k] * mom + g[k];
                    if (nesterov) for (int k = 0; k < n; k++) p[k] -= (g[k] + v[k] * mom) * lr;
                    else for (int k = 0; k < n; k++) p[k] -= v[k] * lr;
                    MemorySegment.copy(p, 0, out[0], ValueLayout.JAVA_FLOAT, at, n);
                    MemorySegment.copy(v, 0, out[1], ValueLayout.JAVA_FLOAT, at, n);
                }
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
