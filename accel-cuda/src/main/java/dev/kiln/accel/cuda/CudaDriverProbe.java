package dev.kiln.accel.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Asks the driver itself, through the FFM API, before any bytedeco class loads: bytedeco's JNI
 * library links against {@code libcuda.so.1}, so without a driver it fails with a link error that
 * cannot say whether the driver, the device or a toolkit library is missing. This can.
 */
final class CudaDriverProbe {
    /** CUDA 13 runtimes (what the bytedeco 13.1 presets link against) need a CUDA 13.0 driver (R580) or newer. */
    static final int MIN_DRIVER = 13000;
    private static final int CUDA_ERROR_NO_DEVICE = 100;

    private CudaDriverProbe() {}

    /** {@code null} when the driver is usable and sees a device, else the precise reason it is not. */
    static String problem() {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return "no CUDA driver: libcuda.so.1 is not installed (the NVIDIA driver provides it)";
        }
        try {
            int[] version = new int[1];
            int rc = call(lib, "cuDriverGetVersion", version);
            if (rc != 0) return "the CUDA driver did not report its version (CUresult " + rc + ")";
            if (version[0] < MIN_DRIVER) {
                return "CUDA driver too old: it supports CUDA " + label(version[0]) + ", the plugin needs " + label(MIN_DRIVER)
                        + " or newer (driver 580+)";
            }
            Linker linker = Linker.nativeLinker();
            MethodHandle init = linker.downcallHandle(lib.find("cuInit").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            int initRc = (int) init.invokeExact(0);
            if (initRc == CUDA_ERROR_NO_DEVICE) return "no CUDA device: the driver (CUDA " + label(version[0]) + ") sees no GPU";
            if (initRc != 0) return "the CUDA driver failed to initialise (cuInit returned CUresult " + initRc + ")";
            int[] count = new int[1];
            rc = call(lib, "cuDeviceGetCount", count);
            if (rc != 0 || count[0] == 0) return "no CUDA device: the driver (CUDA " + label(version[0]) + ") sees no GPU";
            return null;
        } catch (Throwable t) {
            return "the CUDA driver could not be queried: " + t;
        }
    }

    /** Calls {@code CUresult name(int*)} and stores the int. */
    private static int call(SymbolLookup lib, String name, int[] out) throws Throwable {
        MethodHandle h = Linker.nativeLinker().downcallHandle(lib.find(name).orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.JAVA_INT);
            int rc = (int) h.invokeExact(p);
            out[0] = p.get(ValueLayout.JAVA_INT, 0);
            return rc;
        }
    }

    /** 13000 as "13.0". */
    static String label(int version) { return version / 1000 + "." + (version % 1000) / 10; }
}
