package dev.kiln.accel.cuda;

/** One piece of device work of a compiled graph (a kernel, a cuBLASLt call, a copy), enqueued on the stream. */
@FunctionalInterface
interface Step {
    void enqueue(CudaStream stream);
}
