package dev.kiln.spi;

import java.lang.foreign.MemorySegment;

/**
 * One node's computation on host memory: reads {@code in}, writes every byte of {@code out}.
 * Built once at compile time and run many times; it may keep scratch space between runs, since an
 * executable is confined to one thread at a time.
 */
@FunctionalInterface
public interface Kernel extends AutoCloseable {
    void run(MemorySegment[] in, MemorySegment[] out);

    /**
     * Whether {@code out[output]} may be the very memory of {@code in[input]}: true for kernels that
     * read each element before writing the same element (elementwise updates), which lets an
     * executable update a donated buffer in place instead of staging it.
     */
    default boolean inPlace(int input, int output) { return false; }

    /**
     * Whether the output is the input's bytes unchanged (a reshape): an executable may then give
     * the output the input's memory and not run the kernel at all. {@link #run} must still copy,
     * for when it cannot (the output is a graph output, bound to the caller's buffer).
     */
    default boolean isView() { return false; }

    /**
     * For a view: where the output's bytes start within the input's (a slice of a contiguous
     * range; zero for a reshape). The output must fit inside the input from there.
     */
    default long viewOffset() { return 0; }

    /**
     * Where each input's bytes lie, unchanged and contiguous, within the output, when laying them
     * there is all the kernel does (a concat along its outermost axis); null otherwise. An
     * executable may then have the inputs' producers write into the output directly and not run
     * the kernel at all; {@link #run} must still copy, for when it cannot.
     */
    default long[] inputOffsets() { return null; }

    /** Frees what the kernel holds (native primitives, scratch); called when its executable closes. */
    @Override default void close() {}
}
