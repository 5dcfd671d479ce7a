package dev.kiln.accel.cuda;

/** A CUDA library reported an error; the message is the library's own, with the call that failed. */
final class CudaException extends IllegalStateException {
    CudaException(String message) { super(message); }
}
