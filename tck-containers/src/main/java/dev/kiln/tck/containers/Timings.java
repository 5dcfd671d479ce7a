package dev.kiln.tck.containers;

/** The runner's progress lines, each with the seconds its step took: the figures the first and the cached runs are judged by. */
final class Timings {
    private Timings() {}

    static void log(String what, long startNanos) {
        System.out.printf("kiln-tck-containers: %s in %.1f s%n", what, (System.nanoTime() - startNanos) / 1e9);
    }
}
