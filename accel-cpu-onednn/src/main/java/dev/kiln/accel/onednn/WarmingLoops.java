package dev.kiln.accel.onednn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The Vector API loops once the JIT has compiled them, the scalar loops until then.
 *
 * <p>Until C2 compiles it, a Vector API loop runs as calls that box every vector: about 250 us
 * per 1024-element chunk here against 0.35 us compiled, which made the first epoch of the seed
 * MLP three times as long as the next. The scalar loop is compiled within the first steps and is
 * then about three times slower than the vector one. So a daemon thread runs the vector loops on
 * scratch memory of its own, next to the scalar ones, until the vector loops are the faster, and
 * then every kernel switches to them. Both compute the same bits ({@link OptimLoops}), so the
 * switch changes no result, only when the speed arrives.
 */
final class WarmingLoops implements OptimLoops {
    /** Calls per timed round: enough for the JIT's counters, short enough to notice compilation soon. */
    private static final int ROUND = 256;
    /** The thread gives up (the scalar loops stay) if the vector loops never win: a JVM without C2, say. */
    private static final long GIVE_UP_NANOS = 20_000_000_000L;

    private final OptimLoops vector, scalar;
    private volatile boolean warm;

    private WarmingLoops(OptimLoops vector, OptimLoops scalar) {
        this.vector = vector;
        this.scalar = scalar;
    }

    /** Loops that start scalar and switch to {@code vector} once a warm-up thread has seen it compiled. */
    static WarmingLoops start(OptimLoops vector, OptimLoops scalar) {
        WarmingLoops loops = new WarmingLoops(vector, scalar);
        Thread t = new Thread(loops::warmUp, "kiln-onednn-vector-warmup");
        t.setDaemon(true);
        t.start();
        return loops;
    }

    /** Whether the vector loops run now. */
    boolean warm() { return warm; }

    @Override public void adam(MemorySegment[] in, MemorySegment[] out, long from, long to,
                               float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float c2, float eps) {
        (warm ? vector : scalar).adam(in, out, from, to, shrink, l2, b1, nb1, b2, nb2, a, c2, eps);
    }

    @Override public void sgd(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov) {
        (warm ? vector : scalar).sgd(in, out, from, to, lr, wd, mom, nesterov);
    }

    /** Times rounds of both loops on one chunk of scratch until the vector one wins twice in a row. */
    private void warmUp() {
        int n = JavaOptim.CHUNK;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] in = new MemorySegment[4], out = new MemorySegment[3];
            for (int i = 0; i < in.length; i++) in[i] = arena.allocate(4L * n, 64);
            for (int i = 0; i < out.length; i++) out[i] = arena.allocate(4L * n, 64);
            for (long k = 0; k < n; k++) {
                in[0].setAtIndex(ValueLayout.JAVA_FLOAT, k, 0.01f * k);
                in[1].setAtIndex(ValueLayout.JAVA_FLOAT, k, 1e-3f * (k % 7 - 3));
            }
            long start = System.nanoTime();
            for (int wins = 0; wins < 2 && System.nanoTime() - start < GIVE_UP_NANOS; ) {
                long v = round(vector, in, out, n), s = round(scalar, in, out, n);
                wins = v < s ? wins + 1 : 0;
            }
            warm = System.nanoTime() - start < GIVE_UP_NANOS;
        } catch (RuntimeException | LinkageError e) {
            // The scalar loops stay: they are correct, only slower.
        }
    }

    private static long round(OptimLoops loops, MemorySegment[] in, MemorySegment[] out, int n) {
        long t0 = System.nanoTime();
        for (int r = 0; r < ROUND; r++) {
            loops.adam(in, out, 0, n, 1f, 0f, 0.9f, 0.1f, 0.999f, 0.001f, 1e-3f, 0.5f, 1e-8f);
            loops.sgd(in, out, 0, n, 1e-3f, 0f, 0.9f, false);
        }
        return System.nanoTime() - t0;
    }
}
