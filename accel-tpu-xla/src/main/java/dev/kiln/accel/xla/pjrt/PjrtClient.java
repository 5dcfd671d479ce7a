package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.kiln.core.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@code PJRT_Client}: its addressable devices, and the buffers and executables made through it.
 *
 * <p>Every PJRT object Kiln creates is destroyed deterministically: by its own {@code close}, or at
 * the latest by the client's, which destroys what is still open (executables, then buffers) before
 * the client itself, as PJRT requires. Methods may be called from any thread; after {@link #close}
 * they throw {@link IllegalStateException}.
 */
public final class PjrtClient implements AutoCloseable {
    private final PjrtApi api;
    private final MemorySegment client;
    private final String platformName, platformVersion;
    private final List<PjrtDevice> devices;
    private final Set<PjrtExecutable> executables = ConcurrentHashMap.newKeySet();
    private final Set<PjrtBuffer> buffers = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private PjrtClient(PjrtApi api, MemorySegment client) {
        this.api = api;
        this.client = client;
        this.platformName = stringOf("PJRT_Client_PlatformName", PjrtLayouts.CLIENT_PLATFORM_NAME_ARGS, "platform_name", "platform_name_size");
        this.platformVersion = stringOf("PJRT_Client_PlatformVersion", PjrtLayouts.CLIENT_PLATFORM_VERSION_ARGS,
                "platform_version", "platform_version_size");
        this.devices = List.copyOf(addressableDevices());
    }

    /**
     * {@code PJRT_Client_Create} with {@code options} (values: String, Long, Boolean, Float or
     * long[]). Plugins reject option names they do not know; most need none.
     */
    public static PjrtClient create(PjrtApi api, Map<String, ?> options) {
        var s = PjrtLayouts.CLIENT_CREATE_ARGS;
        MemorySegment handle;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = s.allocate(arena);
            s.set(args, "create_options", namedValues(arena, options));
            s.set(args, "num_options", options.size());
            api.call("PJRT_Client_Create", args, "creating a PJRT client");
            handle = s.pointer(args, "client");
        }
        if (handle.equals(MemorySegment.NULL)) throw new IllegalStateException("PJRT_Client_Create returned no client");
        try {
            return new PjrtClient(api, handle);
        } catch (RuntimeException | Error e) {
            destroyClient(api, handle, e);
            throw e;
        }
    }

    public PjrtApi api() { return api; }

    /** E.g. {@code "cpu"}, {@code "cuda"}, {@code "tpu"}. */
    public String platformName() { return platformName; }

    /** The plugin's own version line, e.g. the CUDA or libtpu version. */
    public String platformVersion() { return platformVersion; }

    public List<PjrtDevice> devices() { return devices; }

    /**
     * Compiles {@code mlir} (StableHLO text or bytecode, format {@code "mlir"}) with the serialized
     * {@code xla.CompileOptionsProto} {@code options} (see {@link CompileOptions}).
     */
    public PjrtExecutable compile(String mlir, byte[] options) {
        checkOpen();
        var s = PjrtLayouts.CLIENT_COMPILE_ARGS;
        var p = PjrtLayouts.PROGRAM;
        MemorySegment loaded;
        try (Arena arena = Arena.ofConfined()) {
            byte[] code = mlir.getBytes(StandardCharsets.UTF_8);
            MemorySegment program = p.allocate(arena);
            p.set(program, "code", arena.allocateFrom(JAVA_BYTE, code));
            p.set(program, "code_size", code.length);
            p.set(program, "format", arena.allocateFrom("mlir"));
            p.set(program, "format_size", 4);
            MemorySegment args = s.allocate(arena);
            s.set(args, "client", client);
            s.set(args, "program", program);
            s.set(args, "compile_options", arena.allocateFrom(JAVA_BYTE, options));
            s.set(args, "compile_options_size", options.length);
            api.call("PJRT_Client_Compile", args, "compiling a StableHLO module of " + code.length + " bytes");
            loaded = s.pointer(args, "executable");
        }
        PjrtExecutable e;
        try {
            e = new PjrtExecutable(this, loaded);
        } catch (RuntimeException | Error failure) {
            PjrtExecutable.destroyLoaded(api, loaded, failure);
            throw failure;
        }
        register(executables, e);
        return e;
    }

    /**
     * Copies {@code host} (row-major, native or heap) to a new buffer on {@code device}, and waits
     * until PJRT is done with the host memory.
     */
    public PjrtBuffer upload(PjrtDevice device, DType dtype, long[] dims, MemorySegment host) {
        checkOpen();
        var s = PjrtLayouts.CLIENT_BUFFER_FROM_HOST_BUFFER_ARGS;
        MemorySegment handle;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = host.isNative() ? host : arena.allocate(host.byteSize(), 64).copyFrom(host);
            MemorySegment args = s.allocate(arena);
            s.set(args, "client", client);
            s.set(args, "data", data);
            s.setInt(args, "type", PjrtTypes.of(dtype));
            s.set(args, "dims", arena.allocateFrom(JAVA_LONG, dims));
            s.set(args, "num_dims", dims.length);
            s.setInt(args, "host_buffer_semantics", PjrtTypes.IMMUTABLE_UNTIL_TRANSFER_COMPLETES);
            s.set(args, "device", device.handle());
            String during = "uploading " + dtype + java.util.Arrays.toString(dims) + " to " + device;
            api.call("PJRT_Client_BufferFromHostBuffer", args, during);
            handle = s.pointer(args, "buffer");
            try {
                // The host memory (and our staging copy) must outlive the transfer.
                PjrtEvents.awaitAndDestroy(api, s.pointer(args, "done_with_host_buffer"), during);
            } catch (RuntimeException | Error e) {
                PjrtBuffer.destroy(api, handle, e);
                throw e;
            }
        }
        return adopt(handle, device);
    }

    /** Takes ownership of a {@code PJRT_Buffer*} the plugin returned (an execution's output). */
    PjrtBuffer adopt(MemorySegment handle, PjrtDevice device) {
        PjrtBuffer b = new PjrtBuffer(this, handle, device);
        register(buffers, b);
        return b;
    }

    void forget(PjrtBuffer b) { buffers.remove(b); }

    void forget(PjrtExecutable e) { executables.remove(e); }

    /** Buffers and executables not yet closed: what {@link #close} would destroy. */
    public int openObjects() { return buffers.size() + executables.size(); }

    private <T> void register(Set<T> set, T object) {
        set.add(object);
        if (closed) {
            // Lost a race with close(), which may not have seen this object; closing twice is harmless.
            closeQuietly(object);
            throw new IllegalStateException("this PJRT client was closed");
        }
    }

    private static void closeQuietly(Object o) {
        if (o instanceof PjrtBuffer b) b.close();
        else if (o instanceof PjrtExecutable e) e.close();
    }

    void checkOpen() {
        if (closed) throw new IllegalStateException("this PJRT client (" + platformName + ") is closed");
    }

    /** Destroys the executables and buffers still open, then the client. Idempotent. */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = null;
        for (PjrtExecutable e : List.copyOf(executables)) {
            try { e.close(); } catch (RuntimeException x) { failure = add(failure, x); }
        }
        for (PjrtBuffer b : List.copyOf(buffers)) {
            try { b.close(); } catch (RuntimeException x) { failure = add(failure, x); }
        }
        try {
            destroyClient(api, client, null);
        } catch (RuntimeException x) {
            failure = add(failure, x);
        }
        if (failure != null) throw failure;
    }

    private static RuntimeException add(RuntimeException first, RuntimeException next) {
        if (first == null) return next;
        first.addSuppressed(next);
        return first;
    }

    private static void destroyClient(PjrtApi api, MemorySegment handle, Throwable pending) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = PjrtLayouts.CLIENT_DESTROY_ARGS.allocate(arena);
            PjrtLayouts.CLIENT_DESTROY_ARGS.set(args, "client", handle);
            api.call("PJRT_Client_Destroy", args);
        } catch (RuntimeException e) {
            if (pending == null) throw e;
            pending.addSuppressed(e);
        }
    }

    private String stringOf(String function, PjrtLayouts.Struct s, String pointer, String size) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = s.allocate(arena);
            s.set(args, "client", client);
            api.call(function, args);
            return s.string(args, pointer, size);
        }
    }

    private List<PjrtDevice> addressableDevices() {
        var s = PjrtLayouts.CLIENT_ADDRESSABLE_DEVICES_ARGS;
        List<PjrtDevice> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = s.allocate(arena);
            s.set(args, "client", client);
            api.call("PJRT_Client_AddressableDevices", args, "listing devices");
            long n = s.size(args, "num_addressable_devices");
            if (n < 0 || n > 1 << 20) throw new IllegalStateException("PJRT_Client_AddressableDevices reported " + n + " devices");
            MemorySegment list = s.pointer(args, "addressable_devices").reinterpret(n * ADDRESS.byteSize());
            for (long i = 0; i < n; i++) out.add(describe(arena, list.getAtIndex(ADDRESS, i)));
        }
        return out;
    }

    private PjrtDevice describe(Arena arena, MemorySegment device) {
        var g = PjrtLayouts.DEVICE_GET_DESCRIPTION_ARGS;
        MemorySegment get = g.allocate(arena);
        g.set(get, "device", device);
        api.call("PJRT_Device_GetDescription", get, "describing a device");
        MemorySegment description = g.pointer(get, "device_description");
        var id = PjrtLayouts.DEVICE_DESCRIPTION_ID_ARGS;
        MemorySegment idArgs = id.allocate(arena);
        id.set(idArgs, "device_description", description);
        api.call("PJRT_DeviceDescription_Id", idArgs, "describing a device");
        var kind = PjrtLayouts.DEVICE_DESCRIPTION_KIND_ARGS;
        MemorySegment kindArgs = kind.allocate(arena);
        kind.set(kindArgs, "device_description", description);
        api.call("PJRT_DeviceDescription_Kind", kindArgs, "describing a device");
        return new PjrtDevice(device, idArgs.get(java.lang.foreign.ValueLayout.JAVA_INT, id.at("id")),
                kind.string(kindArgs, "device_kind", "device_kind_size"));
    }

    /** A {@code PJRT_NamedValue[]} in {@code arena}; NULL for none. */
    static MemorySegment namedValues(Arena arena, Map<String, ?> values) {
        if (values.isEmpty()) return MemorySegment.NULL;
        var nv = PjrtLayouts.NAMED_VALUE;
        long stride = nv.layout().byteSize();
        MemorySegment all = arena.allocate(stride * values.size(), 8);
        int i = 0;
        for (Map.Entry<String, ?> e : values.entrySet()) {
            MemorySegment v = all.asSlice(i++ * stride, stride);
            v.set(JAVA_LONG, 0, nv.structSize());
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            nv.set(v, "name", arena.allocateFrom(JAVA_BYTE, name));
            nv.set(v, "name_size", name.length);
            long at = nv.at("value");
            switch (e.getValue()) {
                case String str -> {
                    byte[] b = str.getBytes(StandardCharsets.UTF_8);
                    nv.setInt(v, "type", 0);
                    v.set(ADDRESS, at, arena.allocateFrom(JAVA_BYTE, b));
                    nv.set(v, "value_size", b.length);
                }
                case Long l -> { nv.setInt(v, "type", 1); v.set(JAVA_LONG, at, l); nv.set(v, "value_size", 1); }
                case Integer n -> { nv.setInt(v, "type", 1); v.set(JAVA_LONG, at, n); nv.set(v, "value_size", 1); }
                case long[] a -> {
                    nv.setInt(v, "type", 2);
                    v.set(ADDRESS, at, arena.allocateFrom(JAVA_LONG, a));
                    nv.set(v, "value_size", a.length);
                }
                case Float f -> { nv.setInt(v, "type", 3); v.set(JAVA_FLOAT, at, f); nv.set(v, "value_size", 1); }
                case Boolean b -> { nv.setInt(v, "type", 4); v.set(JAVA_BYTE, at, (byte) (b ? 1 : 0)); nv.set(v, "value_size", 1); }
                default -> throw new IllegalArgumentException("PJRT client option " + e.getKey() + ": unsupported value type "
                        + e.getValue().getClass().getName() + " (use String, Long, Boolean, Float or long[])");
            }
        }
        return all;
    }
}
