package dev.kiln.accel.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.Loader;

/**
 * Loads bytedeco's JNI bindings, which link against the machine's CUDA 13 libraries (cudart,
 * cuBLAS/cuBLASLt, NVRTC). Once per process; the outcome, good or bad, is remembered.
 */
final class CudaLibraries {
    private CudaLibraries() {}

    private static final class Holder {
        static final String PROBLEM = load();
    }

    /** {@code null} when the driver sees a device and every library loaded, else why not. */
    static String problem() { return Holder.PROBLEM; }

    /** Throws with the reason when the plugin cannot run here. */
    static void require() {
        String p = problem();
        if (p != null) throw new IllegalStateException("cuda is not available: " + p);
    }

    private static String load() {
        String driver = CudaDriverProbe.problem();
        if (driver != null) return driver;
        String lib = "cudart";
        try {
            Loader.load(cudart.class);
            lib = "cublas";
            Loader.load(cublas.class);
            lib = "nvrtc";
            Loader.load(nvrtc.class);
        } catch (Throwable t) {
            return "CUDA library not found: " + lib + " did not load (" + rootMessage(t) + "); put the CUDA 13 libraries "
                    + "(libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libnvrtc.so.13) on LD_LIBRARY_PATH";
        }
        int[] n = new int[1];
        int rc = cudart.cudaGetDeviceCount(n);
        if (rc == cudart.cudaErrorInsufficientDriver) return "CUDA driver too old for the CUDA runtime library found (cudaErrorInsufficientDriver)";
        if (rc != 0 || n[0] == 0) return "no CUDA device: cudaGetDeviceCount returned " + rc + " with " + n[0] + " devices";
        return null;
    }

    static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) c = c.getCause();
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }
}
