package dev.kiln.spi;

import dev.kiln.spi.ir.TensorType;

/** Device memory holding one tensor. Owned by whoever allocated it; closing twice is harmless. */
public interface Buffer extends AutoCloseable {
    TensorType type();

    @Override void close();
}
