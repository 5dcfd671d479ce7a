package dev.kiln.accel.onednn;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * The C library's environment, which native libraries read when they load (and which
 * {@link System#getenv()}'s snapshot does not change): for settings Kiln gives a native library
 * by default, always leaving alone what the user set. Linux only; elsewhere nothing is set.
 */
final class CEnvironment {
    private CEnvironment() {}

    private static final class Libc {
        static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        static final MethodHandle GETENV = find("getenv", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        static final MethodHandle SETENV = find("setenv", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

        private static MethodHandle find(String name, FunctionDescriptor descriptor) {
            if (!LINUX) return null;
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(s -> linker.downcallHandle(s, descriptor)).orElse(null);
        }
    }

    /**
     * Sets {@code name=value} unless {@code name} is set already; returns whether it set it. Called
     * before the library that reads it loads, while no other thread of Kiln's touches the
     * environment (setenv is not safe against concurrent getenv).
     */
    static synchronized boolean setIfUnset(String name, String value) {
        if (Libc.GETENV == null || Libc.SETENV == null) return false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            if (!((MemorySegment) Libc.GETENV.invokeExact(n)).equals(MemorySegment.NULL)) return false;
            return (int) Libc.SETENV.invokeExact(n, arena.allocateFrom(value), 0) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The value of {@code name}, or null. */
    static String get(String name) {
        if (Libc.GETENV == null) return null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = (MemorySegment) Libc.GETENV.invokeExact(arena.allocateFrom(name));
            return v.equals(MemorySegment.NULL) ? null : v.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }
}
