package dev.kiln.accel.onednn;

import dev.kiln.core.PrecisionPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** What the CPU can do in hardware, read once from the kernel's view of the processor flags. */
final class CpuFeatures {
    private static final Set<String> FLAGS = readFlags();

    private CpuFeatures() {}

    /** 512-bit vectors: the widest kernels oneDNN has for f32 on this CPU. */
    static boolean avx512() { return FLAGS.contains("avx512f"); }

    /** 256-bit integer and FMA vectors: oneDNN's AVX2 kernels. */
    static boolean avx2() { return FLAGS.contains("avx2") && FLAGS.contains("fma"); }

    /** bf16 dot products in hardware: AVX512_BF16 (Cooper Lake, Zen 4 and later) or AMX. */
    static boolean bf16() { return FLAGS.contains("avx512_bf16") || FLAGS.contains("amx_bf16"); }

    /** bf16-mixed only where the hardware has bf16; emulating it would be slower than fp32. */
    static Set<PrecisionPolicy> precisions() {
        return bf16() ? Set.of(PrecisionPolicy.FP32, PrecisionPolicy.BF16_MIXED) : Set.of(PrecisionPolicy.FP32);
    }

    private static Set<String> readFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) return Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or /proc hidden: claim nothing beyond fp32.
        }
        return Set.of();
    }
}
