package dev.kiln.accel.onednn;

/**
 * Chooses, for one primitive, between running on the calling thread alone and on all the engine's
 * threads, from that primitive's own run times, and keeps checking the choice.
 *
 * <p>Where the other cores are busy (a shared machine, a server's other work), an OpenMP
 * fork-join region waits for a worker that the scheduler has not run yet: on this project's 2-vCPU
 * VM with other builds running, a 256x784x1024 int8 matmul took 0.53 ms on one thread and 2-10 ms
 * on two, call after call. Where they are idle, two threads are nearly twice as fast. Neither a
 * fixed count nor a size rule is right for both, so the kernel times both counts in turn for its
 * first calls, then runs the faster and times the other again (a probe) whenever it has run for
 * {@link #RUNS_PER_PROBE} times that one's last time: probes cost at most about 1/32 of the run
 * time however slow they are, and a change of load is noticed within that many runs' time.
 * Only for kernels whose result does not depend on the thread count (int8 sums are exact).
 */
final class OneDnnThreadChoice {
    /** Time run on the faster count between probes, in multiples of the slower one's last time. */
    static final int RUNS_PER_PROBE = 32;
    /** Calls alternating between the counts at first; the first of each is not counted (page faults, scratch). */
    private static final int WARM_UP = 10, UNTIMED = 2;

    private final int many;
    /**
     * Nanoseconds per run on one thread ([0]) and on {@code many} ([1]): the count in use smoothed,
     * the other its last probe; 0 until timed.
     */
    private final double[] nanos = new double[2];
    private long calls;
    /** Nanoseconds run on the faster count since the last probe. */
    private double sinceProbe;
    /** The count of the run in progress (0: one thread, 1: many) and whether it is a probe. */
    private int arm;
    private boolean probe;

    /** For a primitive that may run on one thread or on {@code many} (the engine's count). */
    OneDnnThreadChoice(int many) { this.many = Math.max(1, many); }

    /** The thread count for the next run (1 or the engine's). */
    int next() {
        if (many == 1) return 1;
        int faster = nanos[1] > 0 && nanos[1] < nanos[0] ? 1 : 0;
        // Alternate during warm-up (both counts get timed), then probe the slower one now and then.
        probe = calls >= WARM_UP && sinceProbe >= RUNS_PER_PROBE * nanos[1 - faster];
        arm = calls < WARM_UP ? (int) (calls & 1) : probe ? 1 - faster : faster;
        return arm == 1 ? many : 1;
    }

    /** Records the run just made on {@link #next()}'s count. */
    void took(long runNanos) {
        if (calls++ < UNTIMED) return;
        double n = nanos[arm];
        // The count in use moves a quarter of the way to each new time, so one odd run does not
        // flip the choice; a probe's time replaces its count's stale estimate, and if it was a
        // lucky run the next runs on that count correct it.
        nanos[arm] = n == 0 || probe ? runNanos : 0.75 * n + 0.25 * runNanos;
        sinceProbe = probe ? 0 : sinceProbe + runNanos;
    }

    @Override public String toString() {
        return String.format("1 thread %.1f us, %d threads %.1f us", nanos[0] / 1e3, many, nanos[1] / 1e3);
    }
}
