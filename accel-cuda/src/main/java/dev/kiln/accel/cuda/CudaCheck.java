package dev.kiln.accel.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/** Turns the status codes of cudart, the driver, cuBLAS and NVRTC into exceptions carrying the library's message. */
final class CudaCheck {
    private CudaCheck() {}

    static void rt(int code, String call) {
        if (code != cudart.cudaSuccess) {
            BytePointer s = cudart.cudaGetErrorString(code);
            throw new CudaException(call + " failed: " + (s == null ? "?" : s.getString()) + " (cudaError " + code + ")");
        }
    }

    static void cu(int code, String call) {
        if (code != cudart.CUDA_SUCCESS) {
            String msg = "?";
            try (PointerPointer<BytePointer> p = new PointerPointer<>(1)) {
                if (cudart.cuGetErrorString(code, p) == 0 && p.get(0) != null) msg = new BytePointer(p.get(0)).getString();
            }
            throw new CudaException(call + " failed: " + msg + " (CUresult " + code + ")");
        }
    }

    static void blas(int status, String call) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            BytePointer s = cublas.cublasGetStatusString(status);
            throw new CudaException(call + " failed: " + (s == null ? "?" : s.getString()) + " (cublasStatus " + status + ")");
        }
    }

    static void nvrtc(int code, String call) {
        if (code != nvrtc.NVRTC_SUCCESS) {
            BytePointer s = nvrtc.nvrtcGetErrorString(code);
            throw new CudaException(call + " failed: " + (s == null ? "?" : s.getString()) + " (nvrtcResult " + code + ")");
        }
    }
}
