package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A plugin's {@code PJRT_Api} table: opened, version-checked, initialized, and asked for its
 * attributes. The dlopen path ({@link #open}) has not run here, since the build machine has no
 * plugin; {@link #of} (the table a {@code GetPjrtApi} returned) is tested with a fake table.
 */
public final class PjrtApi {
    private static final Linker LINKER = Linker.nativeLinker();
    /** Every PJRT function but the two error ones: {@code PJRT_Error* f(Args* args)}. */
    private static final FunctionDescriptor CALL = FunctionDescriptor.of(ADDRESS, ADDRESS);

    private final MemorySegment table;
    private final long structSize;
    private final int major, minor;
    private final PjrtErrors errors;
    private final Map<String, MethodHandle> handles = new ConcurrentHashMap<>();

    private PjrtApi(MemorySegment table, long structSize, int major, int minor) {
        this.table = table;
        this.structSize = structSize;
        this.major = major;
        this.minor = minor;
        this.errors = new PjrtErrors(PjrtErrors.fromApiTable(table));
    }

    /**
     * dlopens {@code plugin} for the life of {@code arena} and calls its {@code GetPjrtApi}. The library
     * is only unloaded when the arena closes; a global arena is the usual choice, since plugins do
     * not expect to be unloaded.
     */
    public static PjrtApi open(Path plugin, Arena arena) {
        SymbolLookup lib = SymbolLookup.libraryLookup(plugin, arena);
        MemorySegment getApi = lib.find("GetPjrtApi")
                .orElseThrow(() -> new IllegalArgumentException(plugin + " does not export GetPjrtApi"));
        MemorySegment table;
        try {
            table = (MemorySegment) LINKER.downcallHandle(getApi, FunctionDescriptor.of(ADDRESS)).invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("GetPjrtApi of " + plugin + " failed", t);
        }
        if (table.equals(MemorySegment.NULL)) throw new IllegalStateException("GetPjrtApi of " + plugin + " returned NULL");
        return of(table);
    }

    /** Checks a {@code PJRT_Api*}: the major version must be the pinned one; any minor is accepted. */
    public static PjrtApi of(MemorySegment apiPointer) {
        var version = PjrtLayouts.API_VERSION;
        long versionAt = PjrtLayouts.API.layout().byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("pjrt_api_version"));
        MemorySegment head = apiPointer.reinterpret(versionAt + version.layout().byteSize());
        long size = head.get(JAVA_LONG, 0);
        int major = head.get(JAVA_INT, versionAt + PjrtErrors.offset(version, "major_version"));
        int minor = head.get(JAVA_INT, versionAt + PjrtErrors.offset(version, "minor_version"));
        if (major != PjrtLayouts.API_MAJOR)
            throw new IllegalStateException("PJRT API " + major + "." + minor + " is not ABI-compatible with Kiln's "
                    + PjrtLayouts.API_MAJOR + "." + PjrtLayouts.API_MINOR);
        // Three error slots are the least a table can have and still report anything.
        if (size < PjrtLayouts.offsetOf("PJRT_Error_GetCode") + 8)
            throw new IllegalStateException("PJRT_Api struct_size " + size + " is too small");
        // Read no further than both sides know: the plugin's table may be shorter or longer than ours.
        long readable = Math.min(size, PjrtLayouts.API.layout().byteSize());
        return new PjrtApi(apiPointer.reinterpret(readable), size, major, minor);
    }

    public int majorVersion() { return major; }
    public int minorVersion() { return minor; }
    public long structSize() { return structSize; }

    /** Whether the plugin's table reaches this function's slot and fills it. */
    public boolean has(String function) {
        long at = PjrtLayouts.offsetOf(function);
        return at + ADDRESS.byteSize() <= Math.min(structSize, table.byteSize())
                && !table.get(ADDRESS, at).equals(MemorySegment.NULL);
    }

    /** Calls {@code function(args)} and throws its error, if any, as a {@link PjrtException}. */
    public void call(String function, MemorySegment args) { call(function, args, null); }

    /** As {@link #call(String, MemorySegment)}; a failure names {@code during} (what Kiln was doing) first. */
    public void call(String function, MemorySegment args, String during) {
        if (!has(function))
            throw new UnsupportedOperationException(function + " is not in this plugin's PJRT_Api " + major + "." + minor);
        MethodHandle h = handles.computeIfAbsent(function,
                f -> LINKER.downcallHandle(table.get(ADDRESS, PjrtLayouts.offsetOf(f)), CALL));
        MemorySegment error;
        try {
            error = (MemorySegment) h.invokeExact(args);
        } catch (Throwable t) {
            throw new IllegalStateException(function + " failed in the downcall", t);
        }
        errors.check(during == null ? function : during + " (" + function + ")", error);
    }

    /** A zeroed args struct in {@code arena} with its {@code struct_size} set. */
    public static MemorySegment args(Arena arena, PjrtLayouts.Struct s) {
        MemorySegment m = arena.allocate(s.layout());
        m.set(JAVA_LONG, 0, s.structSize());
        return m;
    }

    /** {@code PJRT_Plugin_Initialize}: once, before anything else. */
    public void initialize() {
        try (Arena arena = Arena.ofConfined()) {
            call("PJRT_Plugin_Initialize", args(arena, PjrtLayouts.PLUGIN_INITIALIZE_ARGS));
        }
    }

    /**
     * {@code PJRT_Plugin_Attributes} (e.g. {@code xla_version}, {@code stablehlo_current_version}) as
     * Java values: String, Long, long[], Float or Boolean.
     */
    public Map<String, Object> attributes() {
        var s = PjrtLayouts.PLUGIN_ATTRIBUTES_ARGS;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = args(arena, s);
            call("PJRT_Plugin_Attributes", args);
            MemorySegment array = args.get(ADDRESS, PjrtErrors.offset(s, "attributes"));
            long count = args.get(JAVA_LONG, PjrtErrors.offset(s, "num_attributes"));
            return namedValues(array, count);
        }
    }

    /** Reads a {@code PJRT_NamedValue[count]}; the stride is the padded sizeof, not struct_size. */
    static Map<String, Object> namedValues(MemorySegment array, long count) {
        var nv = PjrtLayouts.NAMED_VALUE;
        long stride = nv.layout().byteSize();
        Map<String, Object> out = new LinkedHashMap<>();
        if (count == 0 || array.equals(MemorySegment.NULL)) return out;
        MemorySegment all = array.reinterpret(stride * count);
        for (long i = 0; i < count; i++) {
            MemorySegment v = all.asSlice(i * stride, stride);
            String name = string(v.get(ADDRESS, PjrtErrors.offset(nv, "name")), v.get(JAVA_LONG, PjrtErrors.offset(nv, "name_size")));
            long valueAt = PjrtErrors.offset(nv, "value");
            long valueSize = v.get(JAVA_LONG, PjrtErrors.offset(nv, "value_size"));
            int type = v.get(JAVA_INT, PjrtErrors.offset(nv, "type"));
            Object value = switch (type) {
                case 0 -> string(v.get(ADDRESS, valueAt), valueSize);
                case 1 -> v.get(JAVA_LONG, valueAt);
                case 2 -> v.get(ADDRESS, valueAt).reinterpret(valueSize * 8).toArray(JAVA_LONG);
                case 3 -> v.get(JAVA_FLOAT, valueAt);
                case 4 -> v.get(JAVA_BYTE, valueAt) != 0;
                default -> "(unknown PJRT_NamedValue type " + type + ")";
            };
            out.put(name, value);
        }
        return out;
    }

    static String string(MemorySegment p, long size) {
        if (p.equals(MemorySegment.NULL)) return "";
        return new String(p.reinterpret(size).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
