package dev.kiln.spi;

import java.util.List;

/**
 * A compiled graph. {@link #run} takes one buffer per graph input and returns fresh buffers,
 * one per graph output, owned by the caller. Reusable; confined to one thread at a time.
 */
public interface Executable extends AutoCloseable {
    List<Buffer> run(List<Buffer> inputs);

    @Override void close();
}
