package dev.kiln.spi;

import java.lang.foreign.MemorySegment;

/** One node's computation on host memory: reads {@code in}, writes every byte of {@code out}. */
@FunctionalInterface
public interface Kernel {
    void run(MemorySegment[] in, MemorySegment[] out);
}
