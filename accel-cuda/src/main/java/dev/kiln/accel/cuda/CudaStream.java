package dev.kiln.accel.cuda;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

/**
 * The accelerator's one stream. Everything (copies, kernels, cuBLASLt, frees) is ordered on it,
 * so stream-ordered allocation is safe and only host transfers ever wait. Non-blocking, so it
 * does not serialise with the legacy default stream other libraries may use.
 */
final class CudaStream implements AutoCloseable {
    private final CUstream_st handle = new CUstream_st();

    CudaStream() { CudaCheck.rt(cudart.cudaStreamCreateWithFlags(handle, cudart.cudaStreamNonBlocking), "cudaStreamCreateWithFlags"); }

    CUstream_st handle() { return handle; }

    /** Waits for everything enqueued so far; asynchronous kernel errors surface here. */
    void sync() { CudaCheck.rt(cudart.cudaStreamSynchronize(handle), "cudaStreamSynchronize"); }

    void copy(long dst, long src, long bytes, int kind) {
        if (bytes == 0) return;
        CudaCheck.rt(cudart.cudaMemcpyAsync(new DevicePointer(dst), new DevicePointer(src), bytes, kind, handle), "cudaMemcpyAsync");
    }

    void zero(long dst, long bytes) {
        if (bytes == 0) return;
        CudaCheck.rt(cudart.cudaMemsetAsync(new DevicePointer(dst), 0, bytes, handle), "cudaMemsetAsync");
    }

    @Override public void close() { cudart.cudaStreamDestroy(handle); }
}
