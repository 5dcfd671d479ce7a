package dev.kiln.accel.xla;

import dev.kiln.accel.xla.hlo.StableHloEmitter;
import dev.kiln.accel.xla.pjrt.CompileOptions;
import dev.kiln.accel.xla.pjrt.PjrtBuffer;
import dev.kiln.accel.xla.pjrt.PjrtClient;
import dev.kiln.accel.xla.pjrt.PjrtDevice;
import dev.kiln.accel.xla.pjrt.PjrtExecutable;
import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.Collectives;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * XLA through a PJRT plugin: buffers live in the device's memory, each compiled graph is one
 * StableHLO module compiled by the plugin, and parameters and optimizer state are donated, so a
 * training step updates them on the device without a copy or a second allocation.
 *
 * <p>Donation is decided per run, the way {@link Executable#run(List, List)} defines it (an output
 * buffer that is also an input buffer), while PJRT needs it at compile time
 * ({@code tf.aliasing_output} must alias). So a graph is compiled once per donation pattern it is
 * run with: a training step always runs with the same one, eager use with none.
 *
 * <p>The {@link PjrtClient} is not this accelerator's: plugins allow one client per process (the
 * CUDA plugin aborts on a second), so it is shared and lives as long as the process. Everything
 * this accelerator made through it (buffers, executables) is destroyed by {@link #close}.
 */
final class PjrtAccelerator implements Accelerator {
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(DType.F32, DType.F64, DType.BF16, DType.F16, DType.I32, DType.I64, DType.I8, DType.BOOL),
            Set.of(), Set.of(PrecisionPolicy.FP32, PrecisionPolicy.BF16_MIXED), false);

    private final PjrtClient client;
    private final PjrtDevice device;
    private final int deviceIndex;
    private final List<Device> devices;
    private final Set<AutoCloseable> owned = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    PjrtAccelerator(PjrtClient client, int deviceIndex) {
        List<PjrtDevice> all = client.devices();
        if (deviceIndex < 0 || deviceIndex >= all.size())
            throw new IllegalArgumentException("xla: the PJRT client (" + client.platformName() + ") has " + all.size()
                    + " addressable devices; asked for " + deviceIndex);
        this.client = client;
        this.device = all.get(deviceIndex);
        this.deviceIndex = deviceIndex;
        this.devices = List.of(new Device(client.platformName().toLowerCase(java.util.Locale.ROOT), deviceIndex,
                device.kind() + " through PJRT " + client.api().majorVersion() + "." + client.api().minorVersion()
                        + " (" + client.platformVersion() + ")"));
    }

    @Override public String name() { return "xla"; }

    @Override public List<Device> devices() { return devices; }

    @Override public Capabilities capabilities() { return CAPABILITIES; }

    @Override public Buffer allocate(TensorType type) {
        try (Arena arena = Arena.ofConfined()) {
            // PJRT_Client_CreateUninitializedBuffer is newer than some plugins; zeros work everywhere.
            return upload(type, arena.allocate(Math.max(1, type.byteSize()), 64).asSlice(0, type.byteSize()));
        }
    }

    @Override public Buffer upload(TensorType type, MemorySegment host) {
        checkOpen();
        if (host.byteSize() < type.byteSize())
            throw new IllegalArgumentException("xla: uploading " + type + " needs " + type.byteSize() + " bytes; the host segment has " + host.byteSize());
        DeviceBuffer b = new DeviceBuffer(type, client.upload(device, type.dtype(), dims(type), host.asSlice(0, type.byteSize())));
        own(b);
        return b;
    }

    @Override public void copyIn(MemorySegment host, Buffer dst) {
        DeviceBuffer d = mine(dst, "copyIn");
        if (host.byteSize() < d.type.byteSize())
            throw new IllegalArgumentException("xla: copyIn of " + d.type + " needs " + d.type.byteSize() + " bytes; the host segment has " + host.byteSize());
        d.replace(client.upload(device, d.type.dtype(), dims(d.type), host.asSlice(0, d.type.byteSize())));
    }

    @Override public void download(Buffer buffer, MemorySegment host) {
        DeviceBuffer d = mine(buffer, "download");
        d.pjrt().download(host.asSlice(0, d.type.byteSize()));
    }

    @Override public Executable compile(Graph graph, dev.kiln.spi.CompileOptions options) {
        checkOpen();
        for (Node n : graph.nodes()) n.checkTypes();
        // Emitted now (the emitter decomposes every composite) so that a graph it cannot write fails
        // here, not at its first run; the text serves runs that donate nothing.
        Step step = new Step(graph, StableHloEmitter.emit(graph, StableHloEmitter.Options.defaults()).text());
        own(step);
        return step;
    }

    /**
     * Collectives over this client's devices, rank i on device i, the ranks being threads of this
     * process (see {@link PjrtCollectives}). {@link Capabilities#collectives()} stays false, so
     * multi-process jobs, which this cannot serve, reduce on the host instead.
     */
    @Override public Collectives collectives(int rank, int size, byte[] groupId) {
        checkOpen();
        if (size < 1 || rank < 0 || rank >= size) throw new IllegalArgumentException("xla collectives: rank " + rank + " of a group of " + size);
        int local = client.devices().size();
        if (size > local)
            throw new UnsupportedOperationException("xla collectives: a group of " + size + " ranks needs " + size
                    + " devices of one PJRT client; " + client.platformName() + " has " + local
                    + " (ranks in separate processes would need a multi-process PJRT client, which Kiln does not create)");
        if (rank != deviceIndex) throw new IllegalArgumentException("xla collectives: rank " + rank + " must run on device " + rank + "; this accelerator is on device " + deviceIndex);
        if (size > 1 && groupId == null) throw new IllegalArgumentException("xla collectives: a group of " + size + " needs rank 0's group id");
        String group = System.identityHashCode(client) + "/" + (groupId == null ? "solo" : java.util.HexFormat.of().formatHex(groupId));
        PjrtCollectives c = new PjrtCollectives(this, client, rank, size, group);
        own(c);
        return c;
    }

    @Override public byte[] newCollectiveGroupId() {
        byte[] id = new byte[16];
        new java.security.SecureRandom().nextBytes(id);
        return id;
    }

    PjrtDevice deviceOf(Buffer b) { return mine(b, "collectives").pjrt().device(); }

    PjrtBuffer pjrtOf(Buffer b, String op) { return mine(b, op).pjrt(); }

    /** Makes {@code result} the contents of {@code out}, destroying what it held. */
    void adopt(Buffer out, PjrtBuffer result, String op) {
        DeviceBuffer d;
        try {
            d = mine(out, op);
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
        d.replace(result);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = null;
        for (AutoCloseable c : List.copyOf(owned)) {
            try {
                c.close();
            } catch (Exception e) {
                RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                if (failure == null) failure = r; else failure.addSuppressed(r);
            }
        }
        owned.clear();
        if (failure != null) throw failure;
    }

    private void own(AutoCloseable c) {
        owned.add(c);
        if (closed) {
            owned.remove(c);
            try { c.close(); } catch (Exception ignored) { /* closing on a lost race with close() */ }
            throw new IllegalStateException("this xla accelerator is closed");
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("this xla accelerator is closed");
    }

    private DeviceBuffer mine(Buffer b, String op) {
        if (b instanceof DeviceBuffer d && owned.contains(d)) return d;
        throw new IllegalArgumentException("xla " + op + ": buffer " + b.type() + " does not belong to this accelerator"
                + (b instanceof DeviceBuffer ? " (it was closed, or made by another)" : ""));
    }

    private static long[] dims(TensorType t) { return java.util.Arrays.stream(t.shape().dims()).asLongStream().toArray(); }

    /** A Kiln buffer over a PJRT buffer that each run that writes it replaces. */
    private final class DeviceBuffer implements Buffer {
        final TensorType type;
        private PjrtBuffer pjrt;

        DeviceBuffer(TensorType type, PjrtBuffer pjrt) {
            this.type = type;
            this.pjrt = pjrt;
        }

        @Override public TensorType type() { return type; }

        synchronized PjrtBuffer pjrt() {
            if (pjrt == null) throw new IllegalStateException("xla: buffer " + type + " is closed");
            return pjrt;
        }

        /** Takes {@code next} as this buffer's contents and destroys the old PJRT buffer. */
        synchronized void replace(PjrtBuffer next) {
            PjrtBuffer old = pjrt;
            pjrt = next;
            if (old != null) old.close();
            else next.close();
        }

        @Override public synchronized void close() {
            owned.remove(this);
            if (pjrt != null) pjrt.close();
            pjrt = null;
        }
    }

    /** One graph, compiled by the plugin once per donation pattern it is run with. */
    private final class Step implements Executable {
        private final Graph graph;
        private final List<TensorType> outputs;
        private final Map<Map<Integer, Integer>, PjrtExecutable> compiled = new HashMap<>();

        private final String plainText;

        Step(Graph graph, String plainText) {
            this.graph = graph;
            this.plainText = plainText;
            this.outputs = graph.outputs().stream().map(v -> v.type()).toList();
        }

        @Override public List<Buffer> run(List<Buffer> inputs) {
            List<PjrtBuffer> results = execute(inputs, Map.of());
            List<Buffer> out = new ArrayList<>(results.size());
            for (int i = 0; i < results.size(); i++) {
                DeviceBuffer b = new DeviceBuffer(outputs.get(i), results.get(i));
                own(b);
                out.add(b);
            }
            return out;
        }

        @Override public void run(List<Buffer> inputs, List<Buffer> outs) {
            if (outs.size() != outputs.size())
                throw new IllegalArgumentException("xla: the graph has " + outputs.size() + " outputs; " + outs.size() + " buffers were given");
            List<DeviceBuffer> targets = new ArrayList<>(outs.size());
            for (int o = 0; o < outs.size(); o++) {
                DeviceBuffer d = mine(outs.get(o), "run");
                if (!d.type.equals(outputs.get(o)))
                    throw new IllegalArgumentException("xla: output " + o + " is " + outputs.get(o) + "; the buffer given is " + d.type);
                if (targets.contains(d)) throw new IllegalArgumentException("xla: outputs share a buffer (output " + o + ")");
                targets.add(d);
            }
            List<PjrtBuffer> results = execute(inputs, donations(inputs, outs));
            for (int o = 0; o < results.size(); o++) targets.get(o).replace(results.get(o));
        }

        /** Input index to output index, for each output buffer that is also (exactly once) an input. */
        private Map<Integer, Integer> donations(List<Buffer> inputs, List<Buffer> outs) {
            Map<Integer, Integer> d = new HashMap<>();
            for (int o = 0; o < outs.size(); o++) {
                int at = -1, seen = 0;
                for (int i = 0; i < inputs.size(); i++) {
                    if (inputs.get(i) == outs.get(o)) { at = i; seen++; }
                }
                if (seen == 1 && inputs.get(at).type().equals(outputs.get(o))) d.put(at, o);
            }
            return d;
        }

        private List<PjrtBuffer> execute(List<Buffer> inputs, Map<Integer, Integer> donations) {
            checkOpen();
            if (inputs.size() != graph.inputs().size())
                throw new IllegalArgumentException("xla: the graph has " + graph.inputs().size() + " inputs; " + inputs.size() + " buffers were given");
            List<PjrtBuffer> args = new ArrayList<>(inputs.size());
            for (int i = 0; i < inputs.size(); i++) {
                DeviceBuffer b = mine(inputs.get(i), "run");
                TensorType want = graph.inputs().get(i).type();
                if (!b.type.equals(want))
                    throw new IllegalArgumentException("xla: input " + i + " is " + want + "; the buffer given is " + b.type);
                args.add(b.pjrt());
            }
            long[] keep = new long[inputs.size() - donations.size()];
            for (int i = 0, k = 0; i < inputs.size(); i++) if (!donations.containsKey(i)) keep[k++] = i;
            return executable(donations).execute(device, args, keep);
        }

        private PjrtExecutable executable(Map<Integer, Integer> donations) {
            PjrtExecutable e = compiled.get(donations);
            if (e == null) {
                String text = donations.isEmpty() ? plainText
                        : StableHloEmitter.emit(graph, StableHloEmitter.Options.defaults().withDonations(donations)).text();
                e = client.compile(text, CompileOptions.replicas(1));
                compiled.put(Map.copyOf(donations), e);
            }
            return e;
        }

        @Override public void close() {
            owned.remove(this);
            for (PjrtExecutable e : compiled.values()) e.close();
            compiled.clear();
        }
    }
}
