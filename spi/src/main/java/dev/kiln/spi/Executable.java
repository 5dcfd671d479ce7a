package dev.kiln.spi;

import java.util.List;

/**
 * A compiled graph: one buffer per graph input in, one per graph output out. Reusable; confined to
 * one thread at a time. Closing frees what compile created (kernels, scratch, planned memory).
 */
public interface Executable extends AutoCloseable {
    /** Runs and returns fresh buffers, one per graph output, owned by the caller (eager use). */
    List<Buffer> run(List<Buffer> inputs);

    /**
     * Runs, writing each graph output into the caller's {@code outputs} (one per graph output, of
     * its type). An output buffer may be the same object as an input buffer — the input is
     * <em>donated</em> and updated in place, as parameters and optimizer state are in a training
     * step; the executable stays correct however the graph reads that input. Two outputs may not
     * share a buffer. A compiled step run this way allocates nothing.
     */
    default void run(List<Buffer> inputs, List<Buffer> outputs) {
        throw new UnsupportedOperationException(getClass().getName() + " does not run into caller-provided outputs");
    }

    /**
     * Memory this executable holds between runs (planned intermediates, scratch), in bytes, so the
     * runtime can bound its cache of eager executables by memory rather than by count alone.
     */
    default long memoryBytes() { return 0; }

    @Override void close();
}
