package dev.kiln.accel.cuda;

import java.lang.foreign.MemorySegment;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * Page-locked host memory that host transfers pass through: the SPI hands over any
 * {@link MemorySegment}, heap arrays included, and only pinned memory copies at full bus speed
 * and asynchronously. Grows to the largest transfer seen.
 */
final class PinnedStaging implements AutoCloseable {
    private Pointer block;
    private long capacity;

    /** Host memory of at least {@code bytes}, valid until the next call. */
    MemorySegment get(long bytes) {
        if (bytes > capacity) {
            close();
            long size = Math.max(bytes, Math.max(1 << 20, capacity * 2));
            Pointer p = new Pointer();
            CudaCheck.rt(cudart.cudaMallocHost(p, size), "cudaMallocHost(" + size + ")");
            block = p;
            capacity = size;
        }
        return MemorySegment.ofAddress(block.address()).reinterpret(capacity);
    }

    long address() { return block.address(); }

    @Override public void close() {
        if (block != null) cudart.cudaFreeHost(block);
        block = null;
        capacity = 0;
    }
}
