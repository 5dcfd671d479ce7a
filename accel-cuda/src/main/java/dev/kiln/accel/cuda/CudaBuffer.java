package dev.kiln.accel.cuda;

import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import java.lang.ref.Cleaner;

/** Device memory holding one tensor; freed on {@link #close()} or, as a safety net, when unreachable. */
final class CudaBuffer implements Buffer {
    private static final Cleaner CLEANER = Cleaner.create();

    private final TensorType type;
    private final long address;
    private final CudaMemoryPool pool;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;

    CudaBuffer(TensorType type, CudaMemoryPool pool) {
        this.type = type;
        this.pool = pool;
        this.address = pool.allocate(type.byteSize());
        long a = address;
        this.cleanable = CLEANER.register(this, () -> pool.free(a));
    }

    @Override public TensorType type() { return type; }

    /** The device address; fails if the buffer or its accelerator is closed. */
    long address() {
        if (closed) throw new IllegalStateException("buffer " + type + " is closed");
        if (pool.isClosed()) throw new IllegalStateException("buffer " + type + " belongs to a closed cuda accelerator");
        return address;
    }

    boolean belongsTo(CudaMemoryPool p) { return pool == p; }

    @Override public void close() {
        closed = true;
        cleanable.clean();
    }

    @Override public String toString() { return "CudaBuffer" + type; }
}
