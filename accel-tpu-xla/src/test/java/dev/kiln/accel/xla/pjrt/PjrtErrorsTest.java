package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A fake plugin in Java: upcall stubs for PJRT_Error_Message/GetCode/Destroy placed in a PJRT_Api
 * table laid out by {@link PjrtLayouts}, called through {@link PjrtErrors#fromApiTable}'s downcalls.
 */
class PjrtErrorsTest {
    record FakeError(int code, MemorySegment message, long messageSize) {}

    static Arena arena;
    static MemorySegment table;
    static final Map<Long, FakeError> LIVE = new ConcurrentHashMap<>();
    static final List<Long> DESTROYED = new ArrayList<>();
    static volatile long getCodeFailsWith; // an error GetCode returns instead of answering, 0 for none

    // Upcalls must never throw: a Java exception escaping one kills the JVM.
    static void errorMessage(MemorySegment args) {
        var s = PjrtLayouts.ERROR_MESSAGE_ARGS;
        args = args.reinterpret(s.layout().byteSize());
        FakeError e = LIVE.get(args.get(ADDRESS, PjrtErrors.offset(s, "error")).address());
        if (e == null) return;
        args.set(ADDRESS, PjrtErrors.offset(s, "message"), e.message());
        args.set(JAVA_LONG, PjrtErrors.offset(s, "message_size"), e.messageSize());
    }

    static MemorySegment errorGetCode(MemorySegment args) {
        var s = PjrtLayouts.ERROR_GETCODE_ARGS;
        args = args.reinterpret(s.layout().byteSize());
        if (args.get(JAVA_LONG, 0) != s.structSize()) return MemorySegment.NULL; // leave code unset
        if (getCodeFailsWith != 0) return MemorySegment.ofAddress(getCodeFailsWith);
        FakeError e = LIVE.get(args.get(ADDRESS, PjrtErrors.offset(s, "error")).address());
        args.set(JAVA_INT, PjrtErrors.offset(s, "code"), e == null ? 13 : e.code());
        return MemorySegment.NULL;
    }

    static void errorDestroy(MemorySegment args) {
        var s = PjrtLayouts.ERROR_DESTROY_ARGS;
        args = args.reinterpret(s.layout().byteSize());
        long address = args.get(ADDRESS, PjrtErrors.offset(s, "error")).address();
        if (LIVE.remove(address) != null) synchronized (DESTROYED) { DESTROYED.add(address); }
    }

    static MemorySegment newError(int code, String message) {
        MemorySegment handle = arena.allocate(8);
        MemorySegment text = arena.allocateFrom(message); // NUL-terminated, but the size excludes it
        LIVE.put(handle.address(), new FakeError(code, text, text.byteSize() - 1));
        return handle;
    }

    @BeforeAll static void fakePlugin() throws Exception {
        arena = Arena.ofShared();
        Linker linker = Linker.nativeLinker();
        var lookup = MethodHandles.lookup();
        table = arena.allocate(PjrtLayouts.API.layout());
        table.set(JAVA_LONG, 0, PjrtLayouts.API.structSize());
        table.set(ADDRESS, PjrtLayouts.offsetOf("PJRT_Error_Message"), linker.upcallStub(
                lookup.findStatic(PjrtErrorsTest.class, "errorMessage", MethodType.methodType(void.class, MemorySegment.class)),
                FunctionDescriptor.ofVoid(ADDRESS), arena));
        table.set(ADDRESS, PjrtLayouts.offsetOf("PJRT_Error_GetCode"), linker.upcallStub(
                lookup.findStatic(PjrtErrorsTest.class, "errorGetCode", MethodType.methodType(MemorySegment.class, MemorySegment.class)),
                FunctionDescriptor.of(ADDRESS, ADDRESS), arena));
        table.set(ADDRESS, PjrtLayouts.offsetOf("PJRT_Error_Destroy"), linker.upcallStub(
                lookup.findStatic(PjrtErrorsTest.class, "errorDestroy", MethodType.methodType(void.class, MemorySegment.class)),
                FunctionDescriptor.ofVoid(ADDRESS), arena));
    }

    @AfterAll static void close() { arena.close(); }

    @BeforeEach void reset() {
        LIVE.clear();
        synchronized (DESTROYED) { DESTROYED.clear(); }
        getCodeFailsWith = 0;
    }

    @Test void nullIsSuccess() {
        new PjrtErrors(PjrtErrors.fromApiTable(table)).check("compiling", MemorySegment.NULL);
        assertTrue(DESTROYED.isEmpty());
    }

    @Test void anErrorBecomesAnExceptionAndIsDestroyed() {
        MemorySegment error = newError(3, "bad shape ü");
        var errors = new PjrtErrors(PjrtErrors.fromApiTable(table));
        PjrtException e = assertThrows(PjrtException.class, () -> errors.check("compiling", error));
        assertEquals(3, e.code());
        assertEquals("INVALID_ARGUMENT", e.codeName());
        assertEquals("compiling: INVALID_ARGUMENT: bad shape ü", e.getMessage());
        assertEquals(List.of(error.address()), DESTROYED);
        assertTrue(LIVE.isEmpty());
    }

    @Test void aFailingGetCodeStillDestroysBothErrors() {
        MemorySegment error = newError(5, "missing");
        MemorySegment inner = newError(13, "cannot tell");
        getCodeFailsWith = inner.address();
        var errors = new PjrtErrors(PjrtErrors.fromApiTable(table));
        PjrtException e = assertThrows(PjrtException.class, () -> errors.check("executing", error));
        assertEquals("UNKNOWN", e.codeName());
        assertTrue(e.getMessage().contains("missing") && e.getMessage().contains("cannot tell"), e.getMessage());
        assertTrue(LIVE.isEmpty(), "both destroyed");
        assertEquals(2, DESTROYED.size());
    }

    @Test void destroyedEvenWhenReadingTheMessageThrows() {
        List<String> calls = new ArrayList<>();
        PjrtErrors.Api broken = new PjrtErrors.Api() {
            public String message(MemorySegment error) { calls.add("message"); throw new IllegalStateException("boom"); }
            public int code(MemorySegment error) { calls.add("code"); return 1; }
            public void destroy(MemorySegment error) { calls.add("destroy"); }
        };
        assertThrows(IllegalStateException.class,
                () -> new PjrtErrors(broken).check("x", MemorySegment.ofAddress(16)));
        assertEquals(List.of("message", "destroy"), calls);
    }

    @Test void codeNames() {
        assertEquals("CANCELLED", PjrtException.codeName(1));
        assertEquals("UNAUTHENTICATED", PjrtException.codeName(16));
        assertEquals("CODE_42", PjrtException.codeName(42));
    }
}
