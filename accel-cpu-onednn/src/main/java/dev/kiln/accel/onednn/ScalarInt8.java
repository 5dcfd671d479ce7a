package dev.kiln.accel.onednn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link Int8Loops} without the Vector API, and the tail of {@link VectorInt8}'s. The rounding
 * pass works on heap copies of one chunk at a time, which C2 vectorises (it does not vectorise a
 * loop reading one native segment and writing another), and adds {@code +-0.5} with
 * {@code copySign} rather than a branch, as {@link VectorInt8} adds its sign-copied half.
 */
final class ScalarInt8 implements Int8Loops {
    static final Int8Loops LOOPS = new ScalarInt8();

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int CHUNK = JavaOptim.CHUNK;

    /** Per-thread copies of one chunk, so a run allocates nothing. */
    private static final ThreadLocal<float[]> FLOATS = ThreadLocal.withInitial(() -> new float[CHUNK]);
    private static final ThreadLocal<byte[]> BYTES = ThreadLocal.withInitial(() -> new byte[CHUNK]);

    private ScalarInt8() {}

    @Override public float signedAbsMax(MemorySegment x, long count) {
        float max = 0, min = 0;
        for (long i = 0; i < count; i++) {
            float v = x.getAtIndex(F32, i);
            max = Math.max(max, Math.abs(v));
            min = Math.min(min, v);
        }
        return merge(max, min, 0);
    }

    /**
     * Combines a range's largest magnitude {@code max} and smallest value {@code min} with another
     * range's {@link #signedAbsMax} result: the larger magnitude (NaN if either is), negative if
     * either range had a value below zero.
     */
    static float merge(float max, float min, float other) {
        float amax = Math.max(max, Math.abs(other));
        return min < 0 || other < 0 ? -amax : amax;
    }

    @Override public void quantize(MemorySegment x, long count, float scale, MemorySegment q) {
        float[] f = FLOATS.get();
        byte[] b = BYTES.get();
        for (long c = 0; c < count; c += CHUNK) {
            int n = (int) Math.min(CHUNK, count - c);
            MemorySegment.copy(x, F32, c * 4, f, 0, n);
            round(f, b, n, scale);
            MemorySegment.copy(b, 0, q, ValueLayout.JAVA_BYTE, c, n);
        }
    }

    private static void round(float[] x, byte[] q, int n, float scale) {
        for (int i = 0; i < n; i++) {
            float v = x[i] / scale;
            q[i] = (byte) (int) (v + Math.copySign(0.5f, v));
        }
    }
}
