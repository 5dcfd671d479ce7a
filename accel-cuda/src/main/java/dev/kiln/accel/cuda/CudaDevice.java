package dev.kiln.accel.cuda;

import java.nio.charset.StandardCharsets;
import org.bytedeco.cuda.global.cudart;

/** One GPU: its name and compute capability, and making it current on the calling thread. */
record CudaDevice(int index, String name, int major, int minor, int multiprocessors) {

    static CudaDevice open(int index) {
        int[] count = new int[1];
        CudaCheck.rt(cudart.cudaGetDeviceCount(count), "cudaGetDeviceCount");
        if (index >= count[0]) throw new IllegalArgumentException("cuda has " + count[0] + " devices (cuda:0.." + (count[0] - 1) + "); asked for " + index);
        CudaCheck.rt(cudart.cudaSetDevice(index), "cudaSetDevice(" + index + ")");
        byte[] raw = new byte[256];
        CudaCheck.cu(cudart.cuDeviceGetName(raw, raw.length, index), "cuDeviceGetName");
        int len = 0;
        while (len < raw.length && raw[len] != 0) len++;
        return new CudaDevice(index, new String(raw, 0, len, StandardCharsets.UTF_8),
                attribute(cudart.cudaDevAttrComputeCapabilityMajor, index), attribute(cudart.cudaDevAttrComputeCapabilityMinor, index),
                attribute(cudart.cudaDevAttrMultiProcessorCount, index));
    }

    private static int attribute(int attr, int device) {
        int[] v = new int[1];
        CudaCheck.rt(cudart.cudaDeviceGetAttribute(v, attr, device), "cudaDeviceGetAttribute(" + attr + ")");
        return v[0];
    }

    /**
     * Makes this device (its primary context) current on the calling thread. Kiln may be called
     * from any thread, and the driver API calls (module loads, launches) need a current context.
     */
    void bind() { CudaCheck.rt(cudart.cudaSetDevice(index), "cudaSetDevice(" + index + ")"); }

    /** {@code sm_90}: NVRTC compiles CUBIN for exactly this architecture. */
    String arch() { return "sm_" + major + minor; }

    /** Ampere and newer have bf16 tensor cores and TF32. */
    boolean ampereOrNewer() { return major >= 8; }

    @Override public String toString() { return name + " (" + arch() + ", " + multiprocessors + " SMs)"; }

    /** Driver and runtime versions and every device, for {@code Kiln.providers()}. */
    static String describeAll() {
        int[] driver = new int[1], runtime = new int[1], count = new int[1];
        CudaCheck.rt(cudart.cudaDriverGetVersion(driver), "cudaDriverGetVersion");
        CudaCheck.rt(cudart.cudaRuntimeGetVersion(runtime), "cudaRuntimeGetVersion");
        CudaCheck.rt(cudart.cudaGetDeviceCount(count), "cudaGetDeviceCount");
        StringBuilder sb = new StringBuilder("CUDA driver " + CudaDriverProbe.label(driver[0]) + ", runtime " + CudaDriverProbe.label(runtime[0]));
        for (int i = 0; i < count[0]; i++) sb.append("; cuda:").append(i).append(' ').append(open(i));
        return sb.toString();
    }
}
