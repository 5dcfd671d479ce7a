package dev.kiln.accel.onednn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Vector API loops once the JIT has compiled them, the scalar loops until then.
 *
 * <p>Until C2 compiles it, a Vector API loop runs as calls that box every vector: ~250 us per
 * 1024-element chunk against ~0.4 us compiled, which made the seed MLP's first 100 steps take a
 * second. The scalar loop compiles within two steps and is then ~3x slower than the vector one.
 * So the first kernel that needs an update (for Adam, already the opening of the accelerator:
 * {@link OptimLoops#prewarmAdam}) starts a daemon thread that calls the vector loop on
 * scratch memory of the kernels' kind until it beats the scalar loop, and from then on every
 * kernel runs it. Both compute the same bits ({@link OptimLoops}): the switch changes only
 * when the speed arrives, never a result.
 *
 * <p>Why the warm-up is one loop in one method, with a cap on its calls: a JIT that compiles the
 * calling loop (on-stack replacement, after ~60,000 iterations) inlines the vector loop into
 * that compilation and stops counting calls of the vector method itself, so the method the
 * kernels call would stay interpreted while the warm-up timed a fast copy of it (an earlier
 * version did exactly that and slowed steady epochs 30-fold). The kernels' own calls are
 * checked too: if the vector loop they call is still slow, they go back to the scalar one.
 */
final class WarmingLoops implements OptimLoops {
    /** Warm-up calls per kind, below the interpreter's on-stack-replacement threshold (see above). */
    private static final int MAX_CALLS = 40_000;
    /** Calls per timed round of each loop. */
    private static final int ROUND = 64;
    /**
     * After this many calls the warm-up pauses between rounds: the JIT has asked for the compiled
     * loop by then, and the remaining calls must last until it arrives (C2 takes a few hundred
     * milliseconds over a Vector API loop on a busy machine).
     */
    private static final int PAUSE_AFTER_CALLS = 12_000;
    private static final long PAUSE_MILLIS = 10;
    /**
     * Kernel calls timed after the switch; the switch is undone if most of them were slow (an
     * uncompiled loop makes every call slow, a busy machine only some).
     */
    private static final int CHECKED_CALLS = 64;
    /** A compiled vector loop takes ~0.4 ns per element, the scalar one ~1.5, an interpreted vector one ~250. */
    private static final double SLOW_NANOS_PER_ELEMENT = 20;
    /**
     * A warm-up round counts as a win only below this many nanoseconds per element as well as
     * faster than the scalar round: over the warm-up's short scratch the C2-compiled vector loop
     * took 2-4 ns per element, the C1-compiled one (which boxes vectors like the interpreter)
     * 50-215, and an interpreted scalar loop 600-1,000, so beating the scalar loop alone let a
     * C1-compiled vector loop through in one run of five (the kernels' check then fell back to
     * the scalar loop for good, 2.4x slower per update for the rest of the run).
     */
    private static final double FAST_NANOS_PER_ELEMENT = 10;

    private final OptimLoops vector, scalar;
    private final Warmer adam = new Warmer(true), sgd = new Warmer(false);

    WarmingLoops(OptimLoops vector, OptimLoops scalar) {
        this.vector = vector;
        this.scalar = scalar;
    }

    /** Starts the Adam warm-up now if it has not started (the first Adam update would start it otherwise). */
    void prewarmAdam() { adam.start(); }

    /** Whether the kernels' Adam updates run the vector loop now. */
    boolean adamWarm() { return adam.warm; }

    /** Whether the kernels' SGD updates run the vector loop now. */
    boolean sgdWarm() { return sgd.warm; }

    @Override public void adam(MemorySegment[] in, MemorySegment[] out, long from, long to,
                               float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float c2, float eps) {
        if (!adam.warm) {
            adam.start();
            scalar.adam(in, out, from, to, shrink, l2, b1, nb1, b2, nb2, a, c2, eps);
        } else if (adam.checking()) {
            long t0 = System.nanoTime();
            vector.adam(in, out, from, to, shrink, l2, b1, nb1, b2, nb2, a, c2, eps);
            adam.checked(System.nanoTime() - t0, to - from);
        } else {
            vector.adam(in, out, from, to, shrink, l2, b1, nb1, b2, nb2, a, c2, eps);
        }
    }

    @Override public void sgd(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov) {
        if (!sgd.warm) {
            sgd.start();
            scalar.sgd(in, out, from, to, lr, wd, mom, nesterov);
        } else if (sgd.checking()) {
            long t0 = System.nanoTime();
            vector.sgd(in, out, from, to, lr, wd, mom, nesterov);
            sgd.checked(System.nanoTime() - t0, to - from);
        } else {
            vector.sgd(in, out, from, to, lr, wd, mom, nesterov);
        }
    }

    /** Whether a warm-up round shows the vector loop compiled: fast in itself, and faster than the scalar loop. */
    static boolean vectorWon(long vectorNanos, long scalarNanos, long elements) {
        return vectorNanos < FAST_NANOS_PER_ELEMENT * elements && vectorNanos < scalarNanos;
    }

    /** The warm-up of one update and the state of its switch. */
    private final class Warmer {
        private final boolean isAdam;
        private final AtomicBoolean started = new AtomicBoolean();
        /** Set by the warm-up thread, cleared for good by kernels that find the vector loop slow. */
        private volatile boolean warm;
        /** Touched only by kernel threads; a race between two of them at worst checks a few calls more or less. */
        private int checkedCalls, slowCalls;

        Warmer(boolean isAdam) { this.isAdam = isAdam; }

        void start() {
            // Called by every update until the switch: the flag is read before a name or a task is built.
            if (started.get()) return;
            Background.once(started, "kiln-onednn-" + (isAdam ? "adam" : "sgd") + "-vector-warmup", this::warmUp);
        }

        boolean checking() { return checkedCalls < CHECKED_CALLS; }

        void checked(long nanos, long elements) {
            if (nanos > SLOW_NANOS_PER_ELEMENT * elements) slowCalls++;
            if (++checkedCalls == CHECKED_CALLS && slowCalls > CHECKED_CALLS / 2) {
                warm = false; // started stays set: the scalar loop, correct and compiled, runs from now on
            }
        }

        /**
         * Times rounds of both loops on two vectors and a tail of scratch (the tail and both
         * weight-decay branches are exercised, so the compiled loop has no untaken path the
         * kernels would trap on) until the vector loop wins twice in a row.
         */
        private void warmUp() {
            int whole = 2 * 64, n = whole + 5; // two vectors of up to 64 lanes, then with and without a scalar tail
            try (Arena arena = Arena.ofShared()) {
                MemorySegment[] in = new MemorySegment[4], out = new MemorySegment[3];
                for (int i = 0; i < in.length; i++) in[i] = arena.allocate(4L * n, 64);
                for (int i = 0; i < out.length; i++) out[i] = arena.allocate(4L * n, 64);
                for (long k = 0; k < n; k++) {
                    in[0].setAtIndex(ValueLayout.JAVA_FLOAT, k, 0.01f * k);
                    in[1].setAtIndex(ValueLayout.JAVA_FLOAT, k, 1e-3f * (k % 7 - 3));
                }
                // Each round's elements: half its calls update the two whole vectors, half add the tail.
                long elements = ROUND / 2 * (long) whole + ROUND / 2 * (long) n;
                int wins = 0;
                for (int call = 0; call < MAX_CALLS && wins < 2; ) {
                    long t0 = System.nanoTime();
                    for (int r = 0; r < ROUND; r++, call++) {
                        float decay = (r & 1) == 0 ? 0f : 1e-4f;
                        int to = (r & 8) == 0 ? whole : n;
                        if (isAdam) vector.adam(in, out, 0, to, 1f, decay, 0.9f, 0.1f, 0.999f, 0.001f, 1e-3f, 0.5f, 1e-8f);
                        else vector.sgd(in, out, 0, to, 1e-3f, decay, (r & 2) == 0 ? 0f : 0.9f, (r & 4) == 0);
                    }
                    long t1 = System.nanoTime();
                    for (int r = 0; r < ROUND; r++, call++) {
                        int to = (r & 8) == 0 ? whole : n;
                        if (isAdam) scalar.adam(in, out, 0, to, 1f, 0f, 0.9f, 0.1f, 0.999f, 0.001f, 1e-3f, 0.5f, 1e-8f);
                        else scalar.sgd(in, out, 0, to, 1e-3f, 0f, 0.9f, false);
                    }
                    long t2 = System.nanoTime();
                    wins = vectorWon(t1 - t0, t2 - t1, elements) ? wins + 1 : 0;
                    if (call > PAUSE_AFTER_CALLS && wins < 2) Thread.sleep(PAUSE_MILLIS);
                }
                warm = wins >= 2;
            } catch (RuntimeException | LinkageError e) {
                // The scalar loop stays: it is correct, only slower.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
