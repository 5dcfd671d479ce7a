package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link PjrtApi} against a PJRT_Api table made of Java upcall stubs; no plugin is loaded. */
class PjrtApiTest {
    static Arena arena;
    static MemorySegment attributes, theError, theMessage;
    static final AtomicInteger INITIALIZED = new AtomicInteger(), DESTROYED = new AtomicInteger();
    static volatile boolean initializeFails;
    static volatile long initializeSawSize;

    static MemorySegment initialize(MemorySegment args) {
        initializeSawSize = args.reinterpret(8).get(JAVA_LONG, 0);
        INITIALIZED.incrementAndGet();
        return initializeFails ? theError : MemorySegment.NULL;
    }

    static MemorySegment pluginAttributes(MemorySegment args) {
        var s = PjrtLayouts.PLUGIN_ATTRIBUTES_ARGS;
        args = args.reinterpret(s.layout().byteSize());
        args.set(ADDRESS, PjrtErrors.offset(s, "attributes"), attributes);
        args.set(JAVA_LONG, PjrtErrors.offset(s, "num_attributes"), 4);
        return MemorySegment.NULL;
    }

    static void errorMessage(MemorySegment args) {
        var s = PjrtLayouts.ERROR_MESSAGE_ARGS;
        args = args.reinterpret(s.layout().byteSize());
        args.set(ADDRESS, PjrtErrors.offset(s, "message"), theMessage);
        args.set(JAVA_LONG, PjrtErrors.offset(s, "message_size"), theMessage.byteSize() - 1);
    }

    static MemorySegment errorGetCode(MemorySegment args) {
        args.reinterpret(PjrtLayouts.ERROR_GETCODE_ARGS.layout().byteSize())
                .set(JAVA_INT, PjrtErrors.offset(PjrtLayouts.ERROR_GETCODE_ARGS, "code"), 9);
        return MemorySegment.NULL;
    }

    static void errorDestroy(MemorySegment args) { DESTROYED.incrementAndGet(); }

    /** A table as a plugin of version 0.{@code minor} with a {@code struct_size} of {@code size}. */
    static MemorySegment table(int major, int minor, long size) throws ReflectiveOperationException {
        Linker linker = Linker.nativeLinker();
        var lookup = MethodHandles.lookup();
        MethodType call = MethodType.methodType(MemorySegment.class, MemorySegment.class);
        MethodType voidCall = MethodType.methodType(void.class, MemorySegment.class);
        MemorySegment t = arena.allocate(PjrtLayouts.API.layout());
        t.set(JAVA_LONG, 0, size);
        long v = PjrtLayouts.API.layout().byteOffset(PathElement.groupElement("pjrt_api_version"));
        t.set(JAVA_LONG, v, PjrtLayouts.API_VERSION.structSize());
        t.set(JAVA_INT, v + 16, major);
        t.set(JAVA_INT, v + 20, minor);
        t.set(ADDRESS, PjrtLayouts.offsetOf("PJRT_Error_Message"), linker.upcallStub(
                lookup.findStatic(PjrtApiTest.class, "errorMessage", voidCall), FunctionDescriptor.ofVoid(ADDRESS), arena));
        t.set(ADDRESS, PjrtLayouts.offsetOf("PJRT_Error_GetCode"), linker.upcallStub(
                lookup.findStatic(PjrtApiTest.class, "errorGetCode", call), FunctionDescriptor.of(ADDRESS, ADDRESS), arena));
        t.set(ADDRESS, PjrtLayouts.offsetOf("PJRT_Error_Destroy"), linker.upcallStub(
                lookup.findStatic(PjrtApiTest.class, "errorDestroy", voidCall), FunctionDescriptor.ofVoid(ADDRESS), arena));
        t.set(ADDRESS, PjrtLayouts.offsetOf("PJRT_Plugin_Initialize"), linker.upcallStub(
                lookup.findStatic(PjrtApiTest.class, "initialize", call), FunctionDescriptor.of(ADDRESS, ADDRESS), arena));
        t.set(ADDRESS, PjrtLayouts.offsetOf("PJRT_Plugin_Attributes"), linker.upcallStub(
                lookup.findStatic(PjrtApiTest.class, "pluginAttributes", call), FunctionDescriptor.of(ADDRESS, ADDRESS), arena));
        return t;
    }

    static void named(MemorySegment array, int i, String name, int type, long rawValue, long valueSize) {
        var nv = PjrtLayouts.NAMED_VALUE;
        MemorySegment v = array.asSlice(i * nv.layout().byteSize(), nv.layout().byteSize());
        MemorySegment n = arena.allocateFrom(name);
        v.set(JAVA_LONG, 0, nv.structSize());
        v.set(ADDRESS, PjrtErrors.offset(nv, "name"), n);
        v.set(JAVA_LONG, PjrtErrors.offset(nv, "name_size"), n.byteSize() - 1);
        v.set(JAVA_INT, PjrtErrors.offset(nv, "type"), type);
        v.set(JAVA_LONG, PjrtErrors.offset(nv, "value"), rawValue);
        v.set(JAVA_LONG, PjrtErrors.offset(nv, "value_size"), valueSize);
    }

    @BeforeAll static void fakes() {
        arena = Arena.ofShared();
        theError = arena.allocate(8);
        theMessage = arena.allocateFrom("not initialized twice");
        attributes = arena.allocate(PjrtLayouts.NAMED_VALUE.layout(), 4);
        MemorySegment version = arena.allocateFrom("1.12.0");
        named(attributes, 0, "stablehlo_current_version", 0, version.address(), version.byteSize() - 1);
        named(attributes, 1, "xla_version", 1, 2, 1);
        MemorySegment list = arena.allocateFrom(JAVA_LONG, 3, 4, 5);
        named(attributes, 2, "dims", 2, list.address(), 3);
        named(attributes, 3, "supports_cross_host", 4, 1, 1);
    }

    @AfterAll static void close() { arena.close(); }

    @BeforeEach void reset() {
        INITIALIZED.set(0);
        DESTROYED.set(0);
        initializeFails = false;
    }

    @Test void initializesWithTheHeadersStructSize() throws Exception {
        PjrtApi api = PjrtApi.of(table(0, 94, PjrtLayouts.API.structSize()));
        assertEquals(94, api.minorVersion());
        api.initialize();
        assertEquals(1, INITIALIZED.get());
        assertEquals(16, initializeSawSize);
    }

    @Test void readsAttributes() throws Exception {
        Map<String, Object> a = PjrtApi.of(table(0, 40, 2000)).attributes();
        assertEquals("1.12.0", a.get("stablehlo_current_version"));
        assertEquals(2L, a.get("xla_version"));
        assertArrayEquals(new long[] {3, 4, 5}, (long[]) a.get("dims"));
        assertEquals(true, a.get("supports_cross_host"));
    }

    @Test void anInitializeErrorIsThrownAndDestroyed() throws Exception {
        initializeFails = true;
        PjrtApi api = PjrtApi.of(table(0, 94, PjrtLayouts.API.structSize()));
        PjrtException e = assertThrows(PjrtException.class, api::initialize);
        assertEquals("PJRT_Plugin_Initialize: FAILED_PRECONDITION: not initialized twice", e.getMessage());
        assertEquals(1, DESTROYED.get());
    }

    @Test void anotherMajorVersionIsRefused() throws Exception {
        MemorySegment t = table(1, 0, PjrtLayouts.API.structSize());
        assertThrows(IllegalStateException.class, () -> PjrtApi.of(t));
    }

    @Test void anOlderShorterTableHidesLaterSlots() throws Exception {
        // A table that ends right after PJRT_Plugin_Attributes (slot 4).
        long size = PjrtLayouts.offsetOf("PJRT_Plugin_Attributes") + 8;
        PjrtApi api = PjrtApi.of(table(0, 1, size));
        assertTrue(api.has("PJRT_Plugin_Attributes"));
        assertFalse(api.has("PJRT_Event_Destroy"));
        assertThrows(UnsupportedOperationException.class,
                () -> api.call("PJRT_Client_Create", MemorySegment.NULL));
    }

    @Test void aNullSlotIsAbsent() throws Exception {
        assertFalse(PjrtApi.of(table(0, 94, PjrtLayouts.API.structSize())).has("PJRT_Client_Create"));
    }
}
