package dev.kiln.accel.onednn;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Optimizer updates as one pass per parameter: each element of the parameter, gradient and
 * state is read once, updated in vector registers and written once, with no temporaries (the
 * decomposition runs a dozen kernels per parameter). Written with the Vector API because the
 * JIT does not vectorise Adam's divide-and-square-root loop on its own: it ran at ~3 ns per
 * element, most of a seed-MLP step. Every lane is read before it is written, so outputs may be
 * the input buffers (in place).
 */
final class JavaOptim {
    private JavaOptim() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /**
     * Elements per call of a vector body. The body is compiled once it has been called often,
     * which chunking reaches within the first steps; one loop over 100k elements waits for
     * on-stack replacement and spent tens of milliseconds per step interpreted until then.
     */
    private static final int CHUNK = 1024;

    /**
     * Moments below this are stored as zero. A weight whose gradient is always zero (a pixel that
     * is black in every image) has moments decaying geometrically into subnormal floats, and x86
     * runs subnormal arithmetic ~15x slower; Java cannot set the FTZ/DAZ modes, so the kernel
     * flushes itself. Below 1e-30 a moment changes the update by less than 1e-20 of eps.
     */
    private static final float TINY = 1e-30f;

    /** Inputs param, grad, m, v, lr, step; outputs param', m', v'. */
    static Kernel adam(Composite.AdamUpdate op, long size) {
        float b1 = (float) op.beta1(), b2 = (float) op.beta2(), eps = (float) op.eps(), wd = (float) op.weightDecay();
        float nb1 = (float) (1 - op.beta1()), nb2 = (float) (1 - op.beta2());
        boolean decoupled = op.decoupled() && wd != 0, coupled = !op.decoupled() && wd != 0;
        return new InPlace(4) {
            @Override public void run(MemorySegment[] in, MemorySegment[] out) {
                float lr = in[4].get(ValueLayout.JAVA_FLOAT, 0), t = in[5].get(ValueLayout.JAVA_FLOAT, 0);
                // Bias corrections folded into two scalars: p -= a * m / (sqrt(v * ic2) + eps).
                float a = (float) (lr / (1 - Math.pow(b1, t))), ic2 = (float) (1 / (1 - Math.pow(b2, t)));
                float shrink = decoupled ? 1 - lr * wd : 1, l2 = coupled ? wd : 0;
                long bound = size - size % F.length();
                for (long i = 0; i < bound; i += CHUNK) {
                    adam(in, out, i, Math.min(bound, i + CHUNK), shrink, l2, b1, nb1, b2, nb2, a, ic2, eps);
                }
                for (long i = bound; i < size; i++) {
                    long at = i * 4;
                    float p = in[0].get(ValueLayout.JAVA_FLOAT, at) * shrink, g = in[1].get(ValueLayout.JAVA_FLOAT, at);
                    if (coupled) g += p * l2;
                    float m = in[2].get(ValueLayout.JAVA_FLOAT, at) * b1 + g * nb1;
                    float v = in[3].get(ValueLayout.JAVA_FLOAT, at) * b2 + g * g * nb2;
                    if (Math.abs(m) < TINY) m = 0;
                    if (v < TINY) v = 0;
                    out[0].set(ValueLayout.JAVA_FLOAT, at, p - m * a / ((float) Math.sqrt(v * ic2) + eps));
                    out[1].set(ValueLayout.JAVA_FLOAT, at, m);
                    out[2].set(ValueLayout.JAVA_FLOAT, at, v);
                }
            }
        };
    }

    /** Elements {@code from} to {@code to} (whole vectors); a method of its own so the JIT compiles it after a few calls. */
    private static void adam(MemorySegment[] in, MemorySegment[] out, long from, long to,
                             float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float ic2, float eps) {
        MemorySegment p0 = in[0], g0 = in[1], m0 = in[2], v0 = in[3], p1 = out[0], m1 = out[1], v1 = out[2];
        for (long at = from * 4, end = to * 4; at < end; at += F.length() * 4L) {
            FloatVector p = FloatVector.fromMemorySegment(F, p0, at, ORDER).mul(shrink);
            FloatVector g = FloatVector.fromMemorySegment(F, g0, at, ORDER);
            if (l2 != 0) g = p.mul(l2).add(g);
            FloatVector m = FloatVector.fromMemorySegment(F, m0, at, ORDER).mul(b1).add(g.mul(nb1));
            FloatVector v = FloatVector.fromMemorySegment(F, v0, at, ORDER).mul(b2).add(g.mul(g).mul(nb2));
            m = m.blend(0f, m.abs().lt(TINY));
            v = v.blend(0f, v.lt(TINY));
            FloatVector step = m.mul(a).div(v.mul(ic2).sqrt().add(eps));
            p.sub(step).intoMemorySegment(p1, at, ORDER);
            m.intoMemorySegment(m1, at, ORDER);
            v.intoMemorySegment(v1, at, ORDER);
        }
    }

    /** Inputs param, grad, velocity, lr; outputs param', velocity'. */
    static Kernel sgd(Composite.SgdUpdate op, long size) {
        float mom = (float) op.momentum(), wd = (float) op.weightDecay();
        boolean nesterov = op.nesterov();
        return new InPlace(3) {
            @Override public void run(MemorySegment[] in, MemorySegment[] out) {
                float lr = in[3].get(ValueLayout.JAVA_FLOAT, 0);
                long bound = size - size % F.length(), i = bound;
                for (long c = 0; c < bound; c += CHUNK) sgd(in, out, c, Math.min(bound, c + CHUNK), lr, wd, mom, nesterov);
                for (; i < size; i++) {
                    long at = i * 4;
                    float p = in[0].get(ValueLayout.JAVA_FLOAT, at), g = in[1].get(ValueLayout.JAVA_FLOAT, at);
                    if (wd != 0) g += p * wd;
                    float v = mom == 0 ? g : in[2].get(ValueLayout.JAVA_FLOAT, at) * mom + g;
                    if (Math.abs(v) < TINY) v = 0;
                    float step = nesterov ? g + v * mom : v;
                    out[0].set(ValueLayout.JAVA_FLOAT, at, p - step * lr);
                    out[1].set(ValueLayout.JAVA_FLOAT, at, v);
                }
            }
        };
    }

    /** Elements {@code from} to {@code to} (whole vectors), compiled on its own like {@link #adam}. */
    private static void sgd(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov) {
        MemorySegment p0 = in[0], g0 = in[1], v0 = in[2], p1 = out[0], v1 = out[1];
        for (long at = from * 4, end = to * 4; at < end; at += F.length() * 4L) {
            FloatVector p = FloatVector.fromMemorySegment(F, p0, at, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(F, g0, at, ORDER);
            if (wd != 0) g = p.mul(wd).add(g);
            FloatVector v = mom == 0 ? g : FloatVector.fromMemorySegment(F, v0, at, ORDER).mul(mom).add(g);
            v = v.blend(0f, v.abs().lt(TINY));
            FloatVector step = nesterov ? v.mul(mom).add(g) : v;
            p.sub(step.mul(lr)).intoMemorySegment(p1, at, ORDER);
            v.intoMemorySegment(v1, at, ORDER);
        }
    }

    /** A kernel whose first {@code tensors} inputs may share memory with any output. */
    private abstract static class InPlace implements Kernel {
        private final int tensors;

        InPlace(int tensors) { this.tensors = tensors; }

        @Override public boolean inPlace(int input, int output) { return input < tensors; }
    }
}
