package dev.kiln.accel.cuda;

import java.lang.foreign.MemorySegment;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * Page-locked host memory that host transfers pass through: the SPI hands over any
 * {@link MemorySegment}, heap arrays included, and only pinned memory copies at full bus speed
 * and asynchronously. Uploads rotate through a ring of blocks, each guarded by an event, so a
 * training loop's batch copies are enqueued without waiting for the GPU: the host only waits when
 * it comes back to a block whose previous copy has not run yet. Each block grows to the largest
 * transfer it has seen.
 */
final class PinnedStaging implements AutoCloseable {
    private static final int RING = 8;

    private final Block[] ring = new Block[RING];
    private final Block download = new Block();
    private int next;

    PinnedStaging() {
        for (int i = 0; i < RING; i++) ring[i] = new Block();
    }

    /** Copies {@code bytes} of {@code host} to device address {@code dst} on {@code stream}, without waiting for it. */
    void upload(MemorySegment host, long dst, long bytes, CudaStream stream) {
        Block b = ring[next];
        next = (next + 1) % RING;
        b.ready();
        MemorySegment.copy(host, 0, b.get(bytes), 0, bytes);
        stream.copy(dst, b.address(), bytes, cudart.cudaMemcpyHostToDevice);
        b.record(stream);
    }

    /** Copies {@code bytes} from device address {@code src} into {@code host}; waits for the stream. */
    void download(long src, MemorySegment host, long bytes, CudaStream stream) {
        MemorySegment pinned = download.get(bytes);
        stream.copy(download.address(), src, bytes, cudart.cudaMemcpyDeviceToHost);
        stream.sync();
        MemorySegment.copy(pinned, 0, host, 0, bytes);
    }

    @Override public void close() {
        for (Block b : ring) b.close();
        download.close();
    }

    /** One pinned block and the event that marks its last copy done. */
    private static final class Block {
        private Pointer memory;
        private long capacity;
        private CUevent_st event;

        MemorySegment get(long bytes) {
            if (bytes > capacity) {
                free();
                long size = Math.max(bytes, Math.max(1 << 16, capacity * 2));
                Pointer p = new Pointer();
                CudaCheck.rt(cudart.cudaMallocHost(p, size), "cudaMallocHost(" + size + ")");
                memory = p;
                capacity = size;
            }
            return MemorySegment.ofAddress(memory.address()).reinterpret(capacity);
        }

        long address() { return memory.address(); }

        /** Waits until the previous copy out of this block has run. */
        void ready() {
            if (event != null) CudaCheck.rt(cudart.cudaEventSynchronize(event), "cudaEventSynchronize");
        }

        void record(CudaStream stream) {
            if (event == null) {
                event = new CUevent_st();
                CudaCheck.rt(cudart.cudaEventCreateWithFlags(event, cudart.cudaEventDisableTiming), "cudaEventCreateWithFlags");
            }
            CudaCheck.rt(cudart.cudaEventRecord(event, stream.handle()), "cudaEventRecord");
        }

        private void free() {
            ready();
            if (memory != null) cudart.cudaFreeHost(memory);
            memory = null;
            capacity = 0;
        }

        void close() {
            free();
            if (event != null) cudart.cudaEventDestroy(event);
            event = null;
        }
    }
}
