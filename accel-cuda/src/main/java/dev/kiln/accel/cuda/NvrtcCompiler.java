package dev.kiln.accel.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Compiles the CUDA C that Kiln generates to CUBIN for the device's own architecture
 * ({@code --gpu-architecture=sm_XX}), not PTX: a CUBIN needs no JIT in the driver, so a newer
 * NVRTC works with an older driver, and loading is instant. Results are cached by a hash of the
 * source, the architecture and the NVRTC version, in memory and on disk ({@code kiln.cuda.cache},
 * default {@code ~/.kiln/cache/cuda}; unwritable means memory only).
 */
final class NvrtcCompiler {
    private static final Map<String, byte[]> MEMORY = new ConcurrentHashMap<>();
    private static final System.Logger LOG = System.getLogger("dev.kiln.accel.cuda");

    private final String arch;
    private final String version;
    private final Path disk;

    NvrtcCompiler(String arch) {
        this.arch = arch;
        int[] major = new int[1], minor = new int[1];
        CudaCheck.nvrtc(nvrtc.nvrtcVersion(major, minor), "nvrtcVersion");
        this.version = major[0] + "." + minor[0];
        String dir = System.getProperty("kiln.cuda.cache", Path.of(System.getProperty("user.home"), ".kiln", "cache", "cuda").toString());
        this.disk = dir.isBlank() ? null : Path.of(dir);
    }

    String version() { return version; }

    /** The CUBIN of {@code source}; {@code name} only labels errors. */
    byte[] compile(String name, String source) {
        String key = hash(arch + "\n" + version + "\n" + source);
        byte[] cached = MEMORY.get(key);
        if (cached != null) return cached;
        cached = readDisk(key);
        if (cached == null) {
            cached = nvrtcCompile(name, source);
            writeDisk(key, cached);
        }
        MEMORY.put(key, cached);
        return cached;
    }

    private byte[] nvrtcCompile(String name, String source) {
        _nvrtcProgram prog = new _nvrtcProgram();
        CudaCheck.nvrtc(nvrtc.nvrtcCreateProgram(prog, new BytePointer(source), new BytePointer(name + ".cu"), 0,
                (PointerPointer<?>) null, (PointerPointer<?>) null), "nvrtcCreateProgram");
        try {
            String[] opts = {"--gpu-architecture=" + arch, "--std=c++17", "-default-device"};
            int rc = nvrtc.nvrtcCompileProgram(prog, opts.length, new PointerPointer<>(opts));
            if (rc != nvrtc.NVRTC_SUCCESS) {
                throw new CudaException("NVRTC could not compile kernel " + name + " for " + arch + ": " + log(prog) + "\n--- source ---\n" + source);
            }
            try (SizeTPointer size = new SizeTPointer(1)) {
                CudaCheck.nvrtc(nvrtc.nvrtcGetCUBINSize(prog, size), "nvrtcGetCUBINSize");
                byte[] cubin = new byte[Math.toIntExact(size.get())];
                CudaCheck.nvrtc(nvrtc.nvrtcGetCUBIN(prog, cubin), "nvrtcGetCUBIN");
                return cubin;
            }
        } finally {
            nvrtc.nvrtcDestroyProgram(prog);
        }
    }

    private static String log(_nvrtcProgram prog) {
        try (SizeTPointer size = new SizeTPointer(1)) {
            if (nvrtc.nvrtcGetProgramLogSize(prog, size) != 0) return "(no log)";
            byte[] b = new byte[Math.toIntExact(size.get())];
            nvrtc.nvrtcGetProgramLog(prog, b);
            return new String(b, StandardCharsets.UTF_8).strip();
        }
    }

    private byte[] readDisk(String key) {
        if (disk == null) return null;
        try {
            Path f = disk.resolve(key + ".cubin");
            return Files.isRegularFile(f) ? Files.readAllBytes(f) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Written to a temporary file and moved into place, so a reader never sees half a CUBIN. */
    private void writeDisk(String key, byte[] cubin) {
        if (disk == null) return;
        try {
            Files.createDirectories(disk);
            Path tmp = Files.createTempFile(disk, key, ".tmp");
            Files.write(tmp, cubin);
            Files.move(tmp, disk.resolve(key + ".cubin"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "kernel cache " + disk + " not written: " + e);
        }
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
