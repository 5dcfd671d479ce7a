package dev.kiln.accel.cuda;

import java.util.HashSet;
import java.util.Set;
import org.bytedeco.cuda.cudart.CUmemPoolHandle_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Stream-ordered device memory from the device's default pool (cudaMallocAsync). The pool keeps
 * freed memory instead of returning it to the driver at every synchronisation, so the per-step
 * allocations of a training loop cost no system calls after the first steps. It also remembers
 * what is live, so closing the accelerator frees everything it handed out, and a buffer freed
 * (or collected) after that is a harmless no-op.
 */
final class CudaMemoryPool {
    private final CudaDevice device;
    private final CudaStream stream;
    private final Set<Long> live = new HashSet<>();
    private boolean closed;

    CudaMemoryPool(CudaDevice device, CudaStream stream) {
        this.device = device;
        this.stream = stream;
        CUmemPoolHandle_st pool = new CUmemPoolHandle_st();
        CudaCheck.rt(cudart.cudaDeviceGetDefaultMemPool(pool, device.index()), "cudaDeviceGetDefaultMemPool");
        try (LongPointer threshold = new LongPointer(1).put(Long.MAX_VALUE)) {
            CudaCheck.rt(cudart.cudaMemPoolSetAttribute(pool, cudart.cudaMemPoolAttrReleaseThreshold, threshold), "cudaMemPoolSetAttribute");
        }
    }

    /** At least {@code bytes} (and 4, so 16-bit atomics can use the enclosing word) of device memory, 256-byte aligned. */
    synchronized long allocate(long bytes) {
        if (closed) throw new IllegalStateException("cuda accelerator is closed");
        device.bind();
        Pointer p = new Pointer();
        int rc = cudart.cudaMallocAsync(p, Math.max(4, bytes), stream.handle());
        if (rc == cudart.cudaErrorMemoryAllocation) {
            throw new OutOfMemoryError("cuda: cannot allocate " + bytes + " bytes on " + device);
        }
        CudaCheck.rt(rc, "cudaMallocAsync(" + bytes + ")");
        live.add(p.address());
        return p.address();
    }

    /** Frees after the work already enqueued; may run on a {@link java.lang.ref.Cleaner} thread. */
    synchronized void free(long address) {
        if (closed || !live.remove(address)) return;
        device.bind();
        CudaCheck.rt(cudart.cudaFreeAsync(new DevicePointer(address), stream.handle()), "cudaFreeAsync");
    }

    synchronized boolean isClosed() { return closed; }

    /** Frees everything still live; the stream must still exist. */
    synchronized void close() {
        if (closed) return;
        device.bind();
        for (long a : live) cudart.cudaFreeAsync(new DevicePointer(a), stream.handle());
        live.clear();
        closed = true;
    }
}
