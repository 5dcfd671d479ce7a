package dev.kiln.accel.onednn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The optimizer loops without the Vector API, written for C2's auto-vectoriser, and the tail of
 * {@link VectorOptim}'s. Their results are {@link VectorOptim}'s bit for bit (NaN stays NaN,
 * its payload unpromised): the same operations in the same order (Java never contracts
 * {@code a * b + c} into a fused multiply-add, and {@code (float) Math.sqrt} of a float is the
 * correctly rounded float square root), and a flush to zero computed without a branch.
 *
 * <p>Two things keep the JIT from vectorising the plain loop: it does not vectorise loops over
 * several native segments that may overlap (JDK 25), and the flush's conditional becomes a
 * conditional move, which it vectorises only with a non-default flag. So each chunk is copied
 * into heap arrays, computed there, and copied back, and the flush is arithmetic. Adam on 100k
 * weights (OptimLoopsTiming, an AMD EPYC Zen 5 shared with other jobs): 1.1-1.7 ns per weight,
 * against 4-6 ns for the plain loop over the segments and 0.3-0.5 ns for the Vector API's.
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

    /** The largest float that is flushed: {@code |x| < TINY} exactly when {@code |x| <= BELOW}. */
    private static final float BELOW = Math.nextDown(TINY);

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = JavaOptim.CHUNK;

    /** Per-thread copies of one chunk of each tensor, so a step allocates nothing. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][CHUNK]);

    private ScalarOptim() {}

    @Override public void adam(MemorySegment[] in, MemorySegment[] out, long from, long to,
                               float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float c2, float eps) {
        adamScalar(in, out, from, to, shrink, l2, b1, nb1, b2, nb2, a, c2, eps);
    }

    @Override public void sgd(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov) {
        sgdScalar(in, out, from, to, lr, wd, mom, nesterov);
    }

    static void adamScalar(MemorySegment[] in, MemorySegment[] out, long from, long to,
                           float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float c2, float eps) {
        float[][] s = SCRATCH.get();
        float[] p = s[0], g = s[1], m = s[2], v = s[3];
        for (long c = from; c < to; c += CHUNK) {
            int n = (int) Math.min(CHUNK, to - c);
            // Every input of the chunk is read before any output is written: outputs may be the inputs.
            for (int i = 0; i < 4; i++) MemorySegment.copy(in[i], F32, c * 4, s[i], 0, n);
            adam(p, g, m, v, n, shrink, l2, b1, nb1, b2, nb2, a, c2, eps);
            MemorySegment.copy(p, 0, out[0], F32, c * 4, n);
            MemorySegment.copy(m, 0, out[1], F32, c * 4, n);
            MemorySegment.copy(v, 0, out[2], F32, c * 4, n);
        }
    }

    private static void adam(float[] pp, float[] gg, float[] mm, float[] vv, int n,
                             float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float c2, float eps) {
        for (int i = 0; i < n; i++) {
            float p = pp[i] * shrink, g = gg[i];
            // l2 is 0 unless weight decay is coupled; the vector loop tests it the same way.
            if (l2 != 0) g = p * l2 + g;
            float m = flushAbs(mm[i] * b1 + g * nb1);
            float v = flush(vv[i] * b2 + g * nb2 * g);
            float step = m * a / ((float) Math.sqrt(v) / c2 + eps);
            pp[i] = p - step;
            mm[i] = m;
            vv[i] = v;
        }
    }

    static void sgdScalar(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov) {
        float[][] s = SCRATCH.get();
        float[] p = s[0], g = s[1], v = s[2];
        for (long c = from; c < to; c += CHUNK) {
            int n = (int) Math.min(CHUNK, to - c);
            MemorySegment.copy(in[0], F32, c * 4, p, 0, n);
            MemorySegment.copy(in[1], F32, c * 4, g, 0, n);
            if (mom != 0) MemorySegment.copy(in[2], F32, c * 4, v, 0, n);
            sgd(p, g, v, n, lr, wd, mom, nesterov);
            MemorySegment.copy(p, 0, out[0], F32, c * 4, n);
            MemorySegment.copy(v, 0, out[1], F32, c * 4, n);
        }
    }

    private static void sgd(float[] pp, float[] gg, float[] vv, int n, float lr, float wd, float mom, boolean nesterov) {
        for (int i = 0; i < n; i++) {
            float p = pp[i], g = gg[i];
            if (wd != 0) g = p * wd + g;
            float v = flushAbs(mom == 0 ? g : vv[i] * mom + g);
            float step = nesterov ? v * mom + g : v;
            pp[i] = p - step * lr;
            vv[i] = v;
        }
    }

    /**
     * {@code |x| < TINY ? +0 : x} without a branch: {@code keep} is exactly 1 when
     * {@code |x| >= TINY} (the difference is then at least one ulp of TINY, ~1e-37, which times
     * Float.MAX_VALUE is far above 1) and exactly 0 otherwise; {@code x * 0} may be -0, and
     * adding +0 makes it +0 while leaving every other value unchanged.
     */
    static float flushAbs(float x) {
        float keep = Math.min(1f, Math.max(0f, (Math.abs(x) - BELOW) * Float.MAX_VALUE));
        return x * keep + 0f;
    }

    /** {@code x < TINY ? +0 : x}: negative values (-infinity too, which {@code x * 0} would make NaN) become +0 first. */
    static float flush(float x) { return flushAbs(Math.max(x, 0f)); }
}
