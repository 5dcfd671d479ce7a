package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * Turns the {@code PJRT_Error*} every PJRT call returns into a {@link PjrtException}. The caller owns
 * each error and must destroy it even when reading it fails, so {@link #check} always destroys it.
 */
public final class PjrtErrors {
    /** The three error functions of {@code PJRT_Api}: small so tests can fake it. */
    public interface Api {
        String message(MemorySegment error);
        /** @throws PjrtException if the plugin could not say (its own error is destroyed) */
        int code(MemorySegment error);
        void destroy(MemorySegment error);
    }

    private final Api api;

    public PjrtErrors(Api api) { this.api = api; }

    /** Returns if {@code error} is NULL; otherwise reads, destroys and throws it. */
    public void check(String during, MemorySegment error) {
        if (error == null || error.equals(MemorySegment.NULL)) return;
        String message = "(no message)";
        int code = 2; // UNKNOWN, if the plugin cannot even report the code
        try {
            message = api.message(error);
            code = api.code(error);
        } catch (PjrtException e) {
            message += " (reading its code failed: " + e.getMessage() + ")";
        } finally {
            api.destroy(error);
        }
        throw new PjrtException(during, code, message);
    }

    /**
     * The real functions, read from a {@code PJRT_Api} table. The table is trusted to hold at least
     * the three error slots (every PJRT version has them first).
     */
    public static Api fromApiTable(MemorySegment pjrtApi) {
        MemorySegment table = pjrtApi.reinterpret(PjrtLayouts.API.layout().byteSize());
        Linker linker = Linker.nativeLinker();
        MethodHandle destroy = linker.downcallHandle(fn(table, "PJRT_Error_Destroy"), FunctionDescriptor.ofVoid(ADDRESS));
        MethodHandle message = linker.downcallHandle(fn(table, "PJRT_Error_Message"), FunctionDescriptor.ofVoid(ADDRESS));
        MethodHandle getCode = linker.downcallHandle(fn(table, "PJRT_Error_GetCode"), FunctionDescriptor.of(ADDRESS, ADDRESS));
        return new Api() {
            @Override public String message(MemorySegment error) {
                var s = PjrtLayouts.ERROR_MESSAGE_ARGS;
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment args = arena.allocate(s.layout());
                    args.set(JAVA_LONG, 0, s.structSize());
                    args.set(ADDRESS, offset(s, "error"), error);
                    message.invokeExact(args);
                    MemorySegment text = args.get(ADDRESS, offset(s, "message"));
                    long size = args.get(JAVA_LONG, offset(s, "message_size"));
                    if (text.equals(MemorySegment.NULL)) return "";
                    return new String(text.reinterpret(size).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                            StandardCharsets.UTF_8);
                } catch (Throwable t) { throw rethrow(t); }
            }

            @Override public int code(MemorySegment error) {
                var s = PjrtLayouts.ERROR_GETCODE_ARGS;
                MemorySegment failure;
                int code;
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment args = arena.allocate(s.layout());
                    args.set(JAVA_LONG, 0, s.structSize());
                    args.set(ADDRESS, offset(s, "error"), error);
                    failure = (MemorySegment) getCode.invokeExact(args);
                    code = args.get(JAVA_INT, offset(s, "code"));
                } catch (Throwable t) { throw rethrow(t); }
                // GetCode can fail itself; that error is ours to destroy too (one level only).
                if (!failure.equals(MemorySegment.NULL)) {
                    String why;
                    try { why = message(failure); } finally { destroy(failure); }
                    throw new PjrtException("PJRT_Error_GetCode", 2, why);
                }
                return code;
            }

            @Override public void destroy(MemorySegment error) {
                var s = PjrtLayouts.ERROR_DESTROY_ARGS;
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment args = arena.allocate(s.layout());
                    args.set(JAVA_LONG, 0, s.structSize());
                    args.set(ADDRESS, offset(s, "error"), error);
                    destroy.invokeExact(args);
                } catch (Throwable t) { throw rethrow(t); }
            }
        };
    }

    static MemorySegment fn(MemorySegment table, String function) {
        MemorySegment p = table.get(ADDRESS, PjrtLayouts.offsetOf(function));
        if (p.equals(MemorySegment.NULL)) throw new IllegalStateException(function + " is NULL in PJRT_Api");
        return p;
    }

    static long offset(PjrtLayouts.Struct s, String member) {
        return s.layout().byteOffset(PathElement.groupElement(member));
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
