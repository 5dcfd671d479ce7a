package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.kiln.accel.xla.tf.XlaCallModuleExecutor;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PJRT plugin written in Java for the tests of Kiln's PJRT binding, because no real plugin can be
 * installed on the build machine. Its {@code PJRT_Api} table is native memory holding upcall stubs,
 * so Kiln's downcalls, struct layouts, error handling and ownership rules run exactly as against a
 * shared library; each compiled module is run for real by XLA:CPU through TensorFlow's
 * {@code XlaCallModule}, so results are XLA's, not the fake's.
 *
 * <p>What it cannot show: that Kiln's layouts match a real plugin's (the layout test pins those to
 * the header by hand), or how a real plugin behaves (asynchrony, device memory, aborts). It models
 * PJRT's rules that Kiln must follow: one device; buffers, executables, events and errors must all
 * be destroyed (counted by {@link #live}); a donated argument ({@code tf.aliasing_output}, and not
 * listed as non-donatable) is deleted by the execution and fails any later use; unknown client
 * options and empty compile options are refused.
 */
public final class LoopbackPjrtPlugin implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment table;
    private final Map<Long, Object> objects = new ConcurrentHashMap<>();
    private final MemorySegment device, description;
    private final MemorySegment platform = arena.allocateFrom("loopback");
    private final MemorySegment version = arena.allocateFrom("XLA:CPU through TensorFlow's XlaCallModule (Kiln test plugin)");
    private final MemorySegment kind = arena.allocateFrom("XLA:CPU loopback");
    private final MemorySegment deviceList;
    private volatile int executions, donations;

    private record Error(int code, MemorySegment message) {}
    private record Client() {}
    private record Event() {}
    private static final class Buffer {
        final int type;
        final long[] dims;
        final MemorySegment data;
        volatile boolean deleted;

        Buffer(int type, long[] dims, MemorySegment data) {
            this.type = type;
            this.dims = dims;
            this.data = data;
        }
    }
    private record Loaded(XlaCallModuleExecutor exec, Map<Integer, Integer> aliases) {}
    private record ExecutableView(Loaded of) {}

    public LoopbackPjrtPlugin() {
        device = token();
        description = token();
        deviceList = arena.allocate(ADDRESS);
        deviceList.set(ADDRESS, 0, device);
        table = arena.allocate(PjrtLayouts.API.layout());
        table.set(JAVA_LONG, 0, PjrtLayouts.API.layout().byteSize());
        long v = PjrtLayouts.API.at("pjrt_api_version");
        table.set(JAVA_LONG, v, PjrtLayouts.API_VERSION.structSize());
        table.set(JAVA_INT, v + PjrtLayouts.API_VERSION.at("major_version"), PjrtLayouts.API_MAJOR);
        table.set(JAVA_INT, v + PjrtLayouts.API_VERSION.at("minor_version"), PjrtLayouts.API_MINOR);
        Linker linker = Linker.nativeLinker();
        var lookup = MethodHandles.lookup();
        try {
            for (Method m : LoopbackPjrtPlugin.class.getDeclaredMethods()) {
                String function = "PJRT_" + m.getName();
                if (!PjrtLayouts.API_FUNCTIONS.contains(function)) continue;
                boolean returnsError = m.getReturnType() == MemorySegment.class;
                MethodType type = returnsError ? MethodType.methodType(MemorySegment.class, MemorySegment.class)
                        : MethodType.methodType(void.class, MemorySegment.class);
                FunctionDescriptor fd = returnsError ? FunctionDescriptor.of(ADDRESS, ADDRESS) : FunctionDescriptor.ofVoid(ADDRESS);
                var handle = lookup.findVirtual(LoopbackPjrtPlugin.class, m.getName(), type).bindTo(this);
                table.set(ADDRESS, PjrtLayouts.offsetOf(function), linker.upcallStub(handle, fd, arena));
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The {@code PJRT_Api*}, as {@code GetPjrtApi} would return it. */
    public MemorySegment table() { return table; }

    /** PJRT objects handed out and not yet destroyed, by kind (Buffer, Event, Error, ...). */
    public Map<String, Integer> live() {
        Map<String, Integer> out = new HashMap<>();
        for (Object o : objects.values()) out.merge(o.getClass().getSimpleName(), 1, Integer::sum);
        return out;
    }

    public int executions() { return executions; }

    /** Arguments deleted by being donated to an execution's output. */
    public int donations() { return donations; }

    @Override public void close() {
        for (Object o : objects.values()) if (o instanceof Loaded l) l.exec().close();
        objects.clear();
        arena.close();
    }

    // ---- the PJRT functions; every one catches everything, since an exception escaping an upcall kills the JVM

    void Error_Destroy(MemorySegment args) {
        var s = PjrtLayouts.ERROR_DESTROY_ARGS;
        objects.remove(s.pointer(args.reinterpret(s.structSize()), "error").address());
    }

    void Error_Message(MemorySegment args) {
        var s = PjrtLayouts.ERROR_MESSAGE_ARGS;
        args = args.reinterpret(s.structSize());
        if (objects.get(s.pointer(args, "error").address()) instanceof Error e) {
            putString(s, args, "message", e.message());
        }
    }

    MemorySegment Error_GetCode(MemorySegment args) {
        var s = PjrtLayouts.ERROR_GETCODE_ARGS;
        args = args.reinterpret(s.structSize());
        if (!(objects.get(s.pointer(args, "error").address()) instanceof Error e)) return error(3, "not a PJRT_Error");
        s.setInt(args, "code", e.code());
        return MemorySegment.NULL;
    }

    MemorySegment Plugin_Initialize(MemorySegment args) { return MemorySegment.NULL; }

    MemorySegment Event_Await(MemorySegment args) {
        var s = PjrtLayouts.EVENT_AWAIT_ARGS;
        return objects.get(s.pointer(args.reinterpret(s.structSize()), "event").address()) instanceof Event
                ? MemorySegment.NULL : error(3, "not a PJRT_Event");
    }

    MemorySegment Event_Destroy(MemorySegment args) {
        var s = PjrtLayouts.EVENT_DESTROY_ARGS;
        objects.remove(s.pointer(args.reinterpret(s.structSize()), "event").address());
        return MemorySegment.NULL;
    }

    MemorySegment Client_Create(MemorySegment args) {
        return guarded(() -> {
            var s = PjrtLayouts.CLIENT_CREATE_ARGS;
            MemorySegment a = args.reinterpret(s.structSize());
            long n = s.size(a, "num_options");
            if (n > 0) {
                Map<String, Object> options = PjrtApi.namedValues(s.pointer(a, "create_options"), n);
                return error(3, "Unknown option(s) for the loopback client: " + options.keySet());
            }
            s.set(a, "client", register(new Client()));
            return MemorySegment.NULL;
        });
    }

    MemorySegment Client_Destroy(MemorySegment args) {
        var s = PjrtLayouts.CLIENT_DESTROY_ARGS;
        objects.remove(s.pointer(args.reinterpret(s.structSize()), "client").address());
        return MemorySegment.NULL;
    }

    MemorySegment Client_PlatformName(MemorySegment args) {
        return putString(PjrtLayouts.CLIENT_PLATFORM_NAME_ARGS, args, "platform_name", platform);
    }

    MemorySegment Client_PlatformVersion(MemorySegment args) {
        return putString(PjrtLayouts.CLIENT_PLATFORM_VERSION_ARGS, args, "platform_version", version);
    }

    MemorySegment Client_AddressableDevices(MemorySegment args) {
        var s = PjrtLayouts.CLIENT_ADDRESSABLE_DEVICES_ARGS;
        MemorySegment a = args.reinterpret(s.structSize());
        s.set(a, "addressable_devices", deviceList);
        s.set(a, "num_addressable_devices", 1);
        return MemorySegment.NULL;
    }

    MemorySegment Device_GetDescription(MemorySegment args) {
        var s = PjrtLayouts.DEVICE_GET_DESCRIPTION_ARGS;
        MemorySegment a = args.reinterpret(s.structSize());
        if (!s.pointer(a, "device").equals(device)) return error(3, "not a device of this client");
        s.set(a, "device_description", description);
        return MemorySegment.NULL;
    }

    MemorySegment DeviceDescription_Id(MemorySegment args) {
        PjrtLayouts.DEVICE_DESCRIPTION_ID_ARGS.setInt(args.reinterpret(PjrtLayouts.DEVICE_DESCRIPTION_ID_ARGS.structSize()), "id", 0);
        return MemorySegment.NULL;
    }

    MemorySegment DeviceDescription_Kind(MemorySegment args) {
        return putString(PjrtLayouts.DEVICE_DESCRIPTION_KIND_ARGS, args, "device_kind", kind);
    }

    private static final Pattern ARGUMENT = Pattern.compile("%[\\w.]+: tensor<[^>]*>( \\{tf\\.aliasing_output = (\\d+) : i32\\})?");

    MemorySegment Client_Compile(MemorySegment args) {
        return guarded(() -> {
            var s = PjrtLayouts.CLIENT_COMPILE_ARGS;
            var p = PjrtLayouts.PROGRAM;
            MemorySegment a = args.reinterpret(s.structSize());
            MemorySegment program = s.pointer(a, "program").reinterpret(p.structSize());
            String format = p.string(program, "format", "format_size");
            if (!format.equals("mlir")) return error(3, "Unknown program format '" + format + "'");
            if (s.size(a, "compile_options_size") == 0) return error(9, "num_replicas is 0: empty CompileOptionsProto");
            String text = p.string(program, "code", "code_size");
            XlaCallModuleExecutor exec = XlaCallModuleExecutor.compile(text);
            int start = text.indexOf("@main(");
            int end = text.indexOf(") ->", start) < 0 ? text.indexOf(") {", start) : text.indexOf(") ->", start);
            Map<Integer, Integer> aliases = new HashMap<>();
            Matcher m = ARGUMENT.matcher(text.substring(start, end));
            for (int i = 0; m.find(); i++) if (m.group(2) != null) aliases.put(i, Integer.parseInt(m.group(2)));
            s.set(a, "executable", register(new Loaded(exec, aliases)));
            return MemorySegment.NULL;
        });
    }

    MemorySegment LoadedExecutable_Destroy(MemorySegment args) {
        var s = PjrtLayouts.LOADED_EXECUTABLE_DESTROY_ARGS;
        if (objects.remove(s.pointer(args.reinterpret(s.structSize()), "executable").address()) instanceof Loaded l) l.exec().close();
        return MemorySegment.NULL;
    }

    MemorySegment LoadedExecutable_GetExecutable(MemorySegment args) {
        var s = PjrtLayouts.LOADED_EXECUTABLE_GET_EXECUTABLE_ARGS;
        MemorySegment a = args.reinterpret(s.structSize());
        if (!(objects.get(s.pointer(a, "loaded_executable").address()) instanceof Loaded l)) return error(3, "not a loaded executable");
        s.set(a, "executable", register(new ExecutableView(l)));
        return MemorySegment.NULL;
    }

    MemorySegment Executable_NumOutputs(MemorySegment args) {
        var s = PjrtLayouts.EXECUTABLE_NUM_OUTPUTS_ARGS;
        MemorySegment a = args.reinterpret(s.structSize());
        if (!(objects.get(s.pointer(a, "executable").address()) instanceof ExecutableView v)) return error(3, "not an executable");
        s.set(a, "num_outputs", v.of().exec().outputs().size());
        return MemorySegment.NULL;
    }

    MemorySegment Executable_Destroy(MemorySegment args) {
        var s = PjrtLayouts.EXECUTABLE_DESTROY_ARGS;
        objects.remove(s.pointer(args.reinterpret(s.structSize()), "executable").address());
        return MemorySegment.NULL;
    }

    MemorySegment Client_BufferFromHostBuffer(MemorySegment args) {
        return guarded(() -> {
            var s = PjrtLayouts.CLIENT_BUFFER_FROM_HOST_BUFFER_ARGS;
            MemorySegment a = args.reinterpret(s.structSize());
            if (!s.pointer(a, "device").equals(device)) return error(3, "not a device of this client");
            if (s.size(a, "num_byte_strides") != 0) return error(12, "byte_strides are not supported by the loopback");
            int type = a.get(JAVA_INT, s.at("type"));
            long[] dims = s.pointer(a, "dims").reinterpret(8 * s.size(a, "num_dims")).toArray(JAVA_LONG);
            long bytes = bytes(type, dims);
            MemorySegment data = arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes);
            data.copyFrom(s.pointer(a, "data").reinterpret(bytes));
            s.set(a, "buffer", register(new Buffer(type, dims, data)));
            s.set(a, "done_with_host_buffer", register(new Event()));
            return MemorySegment.NULL;
        });
    }

    MemorySegment Buffer_ToHostBuffer(MemorySegment args) {
        return guarded(() -> {
            var s = PjrtLayouts.BUFFER_TO_HOST_BUFFER_ARGS;
            MemorySegment a = args.reinterpret(s.structSize());
            Buffer b = buffer(s.pointer(a, "src"));
            if (b == null) return error(3, "not a live buffer (deleted, donated or destroyed)");
            MemorySegment dst = s.pointer(a, "dst");
            if (dst.equals(MemorySegment.NULL)) {
                s.set(a, "dst_size", b.data.byteSize());
                return MemorySegment.NULL;
            }
            if (s.size(a, "dst_size") < b.data.byteSize()) return error(3, "dst_size is smaller than the buffer");
            dst.reinterpret(b.data.byteSize()).copyFrom(b.data);
            s.set(a, "event", register(new Event()));
            return MemorySegment.NULL;
        });
    }

    MemorySegment Buffer_Destroy(MemorySegment args) {
        var s = PjrtLayouts.BUFFER_DESTROY_ARGS;
        objects.remove(s.pointer(args.reinterpret(s.structSize()), "buffer").address());
        return MemorySegment.NULL;
    }

    MemorySegment LoadedExecutable_Execute(MemorySegment args) {
        return guarded(() -> {
            var s = PjrtLayouts.LOADED_EXECUTABLE_EXECUTE_ARGS;
            var o = PjrtLayouts.EXECUTE_OPTIONS;
            MemorySegment a = args.reinterpret(s.structSize());
            if (!(objects.get(s.pointer(a, "executable").address()) instanceof Loaded l)) return error(3, "not a loaded executable");
            if (s.size(a, "num_devices") != 1) return error(3, "the loopback has one device; num_devices = " + s.size(a, "num_devices"));
            int n = (int) s.size(a, "num_args");
            if (n != l.exec().inputs().size()) return error(3, "the executable takes " + l.exec().inputs().size() + " arguments; got " + n);
            MemorySegment argList = s.pointer(a, "argument_lists").reinterpret(8).get(ADDRESS, 0).reinterpret(8L * n);
            MemorySegment options = s.pointer(a, "options").reinterpret(o.structSize());
            long keepCount = o.size(options, "num_non_donatable_input_indices");
            long[] keep = keepCount == 0 ? new long[0]
                    : o.pointer(options, "non_donatable_input_indices").reinterpret(8 * keepCount).toArray(JAVA_LONG);
            List<Buffer> inputs = new ArrayList<>();
            List<MemorySegment> data = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Buffer b = buffer(argList.getAtIndex(ADDRESS, i));
                if (b == null) return error(3, "argument " + i + " is not a live buffer (deleted, donated or destroyed)");
                inputs.add(b);
                data.add(b.data);
            }
            List<MemorySegment> outs = new ArrayList<>();
            for (var t : l.exec().outputs()) outs.add(arena.allocate(Math.max(1, t.byteSize()), 64).asSlice(0, t.byteSize()));
            l.exec().run(data, outs);
            executions++;
            for (Map.Entry<Integer, Integer> alias : l.aliases().entrySet()) {
                boolean kept = false;
                for (long k : keep) kept |= k == alias.getKey();
                if (!kept) {
                    inputs.get(alias.getKey()).deleted = true;
                    donations++;
                }
            }
            MemorySegment outList = s.pointer(a, "output_lists").reinterpret(8).get(ADDRESS, 0).reinterpret(8L * outs.size());
            for (int i = 0; i < outs.size(); i++) {
                var t = l.exec().outputs().get(i);
                long[] dims = java.util.Arrays.stream(t.shape().dims()).asLongStream().toArray();
                outList.setAtIndex(ADDRESS, i, register(new Buffer(PjrtTypes.of(t.dtype()), dims, outs.get(i))));
            }
            MemorySegment events = s.pointer(a, "device_complete_events");
            if (!events.equals(MemorySegment.NULL)) events.reinterpret(8).set(ADDRESS, 0, register(new Event()));
            return MemorySegment.NULL;
        });
    }

    // ---- helpers

    /** Fills a {@code const char* <member>} plus {@code size_t <member>_size} out-pair with a NUL-terminated string of ours. */
    private static MemorySegment putString(PjrtLayouts.Struct s, MemorySegment args, String member, MemorySegment text) {
        MemorySegment a = args.reinterpret(s.structSize());
        s.set(a, member, text);
        s.set(a, member + "_size", text.byteSize() - 1);
        return MemorySegment.NULL;
    }

    private Buffer buffer(MemorySegment handle) {
        return objects.get(handle.address()) instanceof Buffer b && !b.deleted ? b : null;
    }

    private static long bytes(int type, long[] dims) {
        long n = switch (type) {
            case PjrtTypes.F64, PjrtTypes.S64 -> 8;
            case PjrtTypes.F32, PjrtTypes.S32 -> 4;
            case PjrtTypes.BF16, PjrtTypes.F16 -> 2;
            case PjrtTypes.S8, PjrtTypes.PRED -> 1;
            default -> throw new IllegalArgumentException("loopback: unsupported PJRT_Buffer_Type " + type);
        };
        for (long d : dims) n = Math.multiplyExact(n, d);
        return n;
    }

    private MemorySegment token() { return arena.allocate(8); }

    private MemorySegment register(Object o) {
        MemorySegment t = token();
        objects.put(t.address(), o);
        return t;
    }

    private MemorySegment error(int code, String message) {
        MemorySegment t = token();
        objects.put(t.address(), new Error(code, arena.allocateFrom(message)));
        return t;
    }

    private interface Body { MemorySegment run() throws Exception; }

    private MemorySegment guarded(Body body) {
        try {
            return body.run();
        } catch (Throwable t) {
            return error(13, t.toString());
        }
    }

}
