package dev.kiln.accel.onednn;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Keeps the JVM's own signal handlers in place across native code that replaces them.
 *
 * <p>HotSpot handles SIGSEGV, SIGBUS, SIGILL and SIGFPE itself: implicit null checks, safepoint
 * polls and stack banging fault on purpose and its handler turns the fault into an exception or
 * resumes. Debian's MPICH 4.0.2 (device ch4:ucx) links UCX 1.13, whose libucs installs its own
 * backtrace-printing handlers for those four signals, and a debug handler on SIGHUP, as soon as the
 * library is loaded. The JVM's next deliberate fault then reaches UCX, which prints "Caught signal
 * 11 (Segmentation fault ...)" with a backtrace, puts the old handler back and re-raises the signal
 * with {@code raise}; HotSpot can take the re-raised one for a crash. Measured here: a test JVM that
 * loaded libmpich died on an interpreted null check with "SIGSEGV (0xb) ... (sent by kill)"; other
 * runs printed the backtrace and went on. Debian's Open MPI 4.1.4 replaces none of them.
 *
 * <p>{@link #preserving} records the handlers of the signals HotSpot uses before the native call
 * and puts back every one that changed after it, returning what it restored. The {@code struct
 * sigaction} is copied as opaque bytes (152 on 64-bit glibc; 256 are reserved), so no layout is
 * assumed. Linux only: elsewhere it runs the call and restores nothing. The documented
 * alternative, preloading the JDK's {@code libjsig.so}, needs a flag on every launch.
 *
 * <p>Putting handlers back leaves a window while the library loads (50-90 ms for libmpich here)
 * in which a fault of another Java thread would reach UCX. {@link #quietUcx()} closes it for UCX
 * by setting {@code UCX_HANDLE_ERRORS=none} in the process environment before the load, unless the
 * user set it; UCX then installs no fault handlers at all (measured with {@code -Xcheck:jni}).
 */
final class JvmSignals {
    /** The signals HotSpot installs handlers for on Linux, with their (generic Linux) numbers. */
    private static final int[] NUMBERS = {1, 2, 3, 4, 5, 7, 8, 11, 12, 13, 15, 25};
    private static final String[] NAMES = {"SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGBUS", "SIGFPE", "SIGSEGV",
            "SIGUSR2", "SIGPIPE", "SIGTERM", "SIGXFSZ"};
    private static final long SIGACTION_BYTES = 256;

    private JvmSignals() {}

    /** What a guarded call returned, and the names of the handlers it had replaced and that were put back. */
    record Result<T>(T value, List<String> restored) {}

    /** The variable that tells UCX (MPICH's ch4:ucx device, Open MPI's pml ucx) whether to install its fault handlers. */
    static final String UCX_HANDLE_ERRORS = "UCX_HANDLE_ERRORS";

    private static final class Libc {
        static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        static final MethodHandle SIGACTION = find("sigaction", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));

        private static MethodHandle find(String name, FunctionDescriptor descriptor) {
            if (!LINUX) return null;
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(s -> linker.downcallHandle(s, descriptor)).orElse(null);
        }
    }

    /**
     * Sets {@code UCX_HANDLE_ERRORS=none} in the C environment unless it is set there already, so a
     * UCX that loads afterwards leaves the fault signals alone; returns whether it set it. C's
     * environment, not {@link System#getenv()}'s snapshot, is what UCX reads. Called before Kiln
     * opens an MPI library, while no other thread of Kiln's touches the environment.
     */
    static boolean quietUcx() { return CEnvironment.setIfUnset(UCX_HANDLE_ERRORS, "none"); }

    /** The C environment's value of {@code name}, or null; for tests. */
    static String cEnv(String name) { return CEnvironment.get(name); }

    /** Runs {@code call}, then restores any of the JVM's signal handlers it replaced. */
    static <T> Result<T> preserving(Supplier<T> call) {
        MethodHandle sigaction = Libc.SIGACTION;
        if (sigaction == null) return new Result<>(call.get(), List.of());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] before = new MemorySegment[NUMBERS.length];
            for (int i = 0; i < NUMBERS.length; i++) before[i] = current(sigaction, NUMBERS[i], arena);
            T value = call.get();
            List<String> restored = new ArrayList<>();
            for (int i = 0; i < NUMBERS.length; i++) {
                if (before[i] == null) continue;
                MemorySegment after = current(sigaction, NUMBERS[i], arena);
                if (after != null && handler(after) != handler(before[i])) {
                    if (invoke(sigaction, NUMBERS[i], before[i], MemorySegment.NULL) == 0) restored.add(NAMES[i]);
                }
            }
            return new Result<>(value, List.copyOf(restored));
        }
    }

    /** The handler address (0 for SIG_DFL, 1 for SIG_IGN) of the signal named, e.g. "SIGSEGV", now; -1 if unknown. For tests. */
    static long handlerOf(String name) {
        MethodHandle sigaction = Libc.SIGACTION;
        int i = List.of(NAMES).indexOf(name);
        if (sigaction == null || i < 0) return -1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = current(sigaction, NUMBERS[i], arena);
            return s == null ? -1 : handler(s);
        }
    }

    /** The handler union is the first member of glibc's struct sigaction on x86_64 and aarch64 (not on MIPS). */
    private static long handler(MemorySegment sigactionStruct) { return sigactionStruct.get(ValueLayout.JAVA_LONG, 0); }

    private static MemorySegment current(MethodHandle sigaction, int signal, Arena arena) {
        MemorySegment s = arena.allocate(SIGACTION_BYTES, 16);
        return invoke(sigaction, signal, MemorySegment.NULL, s) == 0 ? s : null;
    }

    private static int invoke(MethodHandle sigaction, int signal, MemorySegment act, MemorySegment old) {
        try {
            return (int) sigaction.invokeExact(signal, act, old);
        } catch (Throwable t) {
            return -1;
        }
    }
}
