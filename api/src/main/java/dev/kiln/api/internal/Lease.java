package dev.kiln.api.internal;

import dev.kiln.spi.Buffer;

/** A tensor's buffer pinned for the length of one use: it cannot be freed until the lease closes. */
public interface Lease extends AutoCloseable {
    Buffer buffer();

    @Override void close();
}
