package dev.kiln.accel.onednn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Runs the warming loops as a training process would, in a JVM of its own: the JIT's counters of
 * a test JVM that already ran the loops a thousand other ways say nothing about a fresh process.
 * Prints {@code WARM <bool> <ms>} once the switch happened or 60 s passed, then {@code STAYS <bool>}
 * after 2,000 kernel-sized calls.
 */
public final class WarmingLoopsMain {
    private WarmingLoopsMain() {}

    public static void main(String[] args) throws InterruptedException {
        WarmingLoops loops = new WarmingLoops(VectorOptim.LOOPS, ScalarOptim.LOOPS);
        int n = JavaOptim.CHUNK;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] in = new MemorySegment[4], out = new MemorySegment[3];
            for (int i = 0; i < in.length; i++) in[i] = arena.allocate(4L * n, 64);
            for (int i = 0; i < out.length; i++) out[i] = arena.allocate(4L * n, 64);
            long start = System.nanoTime(), deadline = start + 60_000_000_000L;
            while (!loops.adamWarm() && System.nanoTime() < deadline) {
                loops.adam(in, out, 0, n, 1f, 0f, 0.9f, 0.1f, 0.999f, 0.001f, 1e-3f, 0.5f, 1e-8f);
                Thread.sleep(1);
            }
            System.out.println("WARM " + loops.adamWarm() + " " + (System.nanoTime() - start) / 1_000_000);
            for (int i = 0; i < 2000; i++) loops.adam(in, out, 0, n, 1f, 0f, 0.9f, 0.1f, 0.999f, 0.001f, 1e-3f, 0.5f, 1e-8f);
            System.out.println("STAYS " + loops.adamWarm());
            System.out.println("SGD " + loops.sgdWarm());
        }
    }
}
