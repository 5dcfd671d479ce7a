package dev.kiln.accel.onednn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The optimizer loops one element at a time, for JVMs without the Vector API, and the tail of
 * {@link VectorOptim}'s. The operations and their order are the vector loops' exactly (Java
 * does not contract {@code a * b + c} into a fused multiply-add, and {@code (float) Math.sqrt}
 * of a float is the correctly rounded float square root), so both produce the same bits.
 */
final class ScalarOptim implements OptimLoops {
    static final OptimLoops LOOPS = new ScalarOptim();

    /**
     * Moments below this are stored as zero. A weight whose gradient is always zero (a pixel that
     * is black in every image) has moments decaying geometrically into subnormal floats, and x86
     * runs subnormal arithmetic ~15x slower; Java cannot set the FTZ/DAZ modes, so the kernel
     * flushes itself. Below 1e-30 a moment changes the update by less than 1e-20 of eps.
     */
    static final float TINY = 1e-30f;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    private ScalarOptim() {}

    @Override public void adam(MemorySegment[] in, MemorySegment[] out, long from, long to,
                               float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float ic2, float eps) {
        adamScalar(in, out, from, to, shrink, l2, b1, nb1, b2, nb2, a, ic2, eps);
    }

    @Override public void sgd(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov) {
        sgdScalar(in, out, from, to, lr, wd, mom, nesterov);
    }

    static void adamScalar(MemorySegment[] in, MemorySegment[] out, long from, long to,
                           float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float ic2, float eps) {
        MemorySegment p0 = in[0], g0 = in[1], m0 = in[2], v0 = in[3], p1 = out[0], m1 = out[1], v1 = out[2];
        for (long at = from * 4, end = to * 4; at < end; at += 4) {
            float p = p0.get(F32, at) * shrink, g = g0.get(F32, at);
            // l2 is 0 unless weight decay is coupled; the vector loop tests it the same way.
            if (l2 != 0) g = p * l2 + g;
            float m = m0.get(F32, at) * b1 + g * nb1;
            float v = v0.get(F32, at) * b2 + g * g * nb2;
            m = Math.abs(m) < TINY ? 0f : m;
            v = v < TINY ? 0f : v;
            float step = m * a / ((float) Math.sqrt(v * ic2) + eps);
            p1.set(F32, at, p - step);
            m1.set(F32, at, m);
            v1.set(F32, at, v);
        }
    }

    static void sgdScalar(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov) {
        MemorySegment p0 = in[0], g0 = in[1], v0 = in[2], p1 = out[0], v1 = out[1];
        for (long at = from * 4, end = to * 4; at < end; at += 4) {
            float p = p0.get(F32, at), g = g0.get(F32, at);
            if (wd != 0) g = p * wd + g;
            float v = mom == 0 ? g : v0.get(F32, at) * mom + g;
            v = Math.abs(v) < TINY ? 0f : v;
            float step = nesterov ? v * mom + g : v;
            p1.set(F32, at, p - step * lr);
            v1.set(F32, at, v);
        }
    }
}
