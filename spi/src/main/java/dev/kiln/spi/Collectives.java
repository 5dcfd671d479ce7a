package dev.kiln.spi;

/**
 * Collective operations over a process group, one rank per device, on an accelerator's buffers.
 * Calls are enqueued in order with the accelerator's other work (a GPU plugin does not wait for
 * them on the host), so they can overlap with compute; every rank must make the same calls in the
 * same order. Sums are the only reduction, plain or divided by the group size: data-parallel
 * training needs no other.
 */
public interface Collectives extends AutoCloseable {
    /** This process's rank, {@code 0 <= rank < size}. */
    int rank();

    /** The number of ranks in the group. */
    int size();

    /** {@code out = sum over ranks of in}; both of one type. */
    void allReduce(Buffer in, Buffer out);

    /**
     * {@code out = (sum over ranks of in) / size()}, the mean gradient of data-parallel training;
     * both of one type. A default method so that plugins built before it stay valid: they throw
     * {@link UnsupportedOperationException}, and a caller can {@link #allReduce} and divide instead.
     */
    default void allReduceAverage(Buffer in, Buffer out) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no averaging all-reduce; allReduce and divide by size()");
    }

    /** {@code out = in of rank root}; both of one type. */
    void broadcast(Buffer in, Buffer out, int root);

    /** {@code out} (size times as many elements as {@code in}) holds every rank's {@code in}, in rank order. */
    void allGather(Buffer in, Buffer out);

    /** {@code out} is this rank's block of the sum over ranks of {@code in} (size times as many elements as {@code out}). */
    void reduceScatter(Buffer in, Buffer out);

    /** Returns when every rank has reached it and this rank's enqueued collectives have completed. */
    void barrier();

    /**
     * Gives up on the group after a peer failed or a collective timed out: later calls fail, and
     * nothing that would wait for the peers runs again (no MPI_Finalize, NCCL's
     * {@code ncclCommAbort} instead of a destroy). May be called from any thread while a
     * collective is blocked in another; memory that call is using must then be leaked, not freed.
     * The default does nothing, for plugins whose collectives cannot hang.
     */
    default void abort() {}

    @Override void close();
}
