package dev.kiln.accel.cuda;

import dev.kiln.tck.container.DeviceRequest;
import dev.kiln.tck.container.KitImage;
import dev.kiln.tck.container.KitImageProvider;

/**
 * The image the CUDA kit runs in: every NVIDIA GPU of the host, whose driver (libcuda) the NVIDIA
 * Container Toolkit mounts into the container, and CUDA's own libraries (cudart, cuBLAS(Lt),
 * NVRTC) from bytedeco's redistributable jar, since Debian has no CUDA 13. The device tests run
 * after the kit.
 */
public final class CudaKitImage implements KitImageProvider {
    @Override public KitImage image() {
        return KitImage.builder("cuda", CudaConformanceTest.class)
                .alsoRun(CudaDeviceTest.class)
                .devices(DeviceRequest.allNvidiaGpus())
                .environment("NVIDIA_DRIVER_CAPABILITIES", "compute,utility")
                .nativeArtifacts("org.bytedeco:cuda-redist:13.1-9.19-1.5.13:linux-x86_64")
                .jvmOptions("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss4m")
                .build();
    }
}
