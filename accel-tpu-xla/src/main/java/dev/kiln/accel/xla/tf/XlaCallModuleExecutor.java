package dev.kiln.accel.xla.tf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One StableHLO module, run on the host by XLA's CPU compiler inside TensorFlow: a graph of one
 * {@code Placeholder} per argument feeding one {@code XlaCallModule} node, in a TF session kept for
 * the executor's life. TensorFlow hands the node to XLA when the session first runs it, and XLA
 * compiles the module then and reuses the executable after: about 0.1 s for a small module, plus
 * about 0.5 s of XLA start-up for the first in a process (2 shared vCPUs).
 *
 * <p>The module's {@code @main} must take exactly {@code inputs} and return exactly
 * {@code outputs}, with static shapes. Because TF builds nothing until it runs, a module that does
 * not parse or does not compile is reported by the first {@link #run}, not by {@link #compile}.
 *
 * <p>Runs are serialized by a lock (XLA's CPU executable is itself multi-threaded), and
 * {@link #close} waits for a run in progress. Each run copies the inputs into new TF tensors and
 * the results out of TF's, so no memory of the caller's is ever held by TF past the call.
 */
public final class XlaCallModuleExecutor implements AutoCloseable {
    /**
     * XlaCallModule's {@code version} attribute: 9, the newest that TensorFlow 2.18 accepts (10 fails
     * the first run with "XlaCallModuleOp with version 10 is not supported by this build. Must be
     * <= 9"). From 9 on, tokens are found from {@code @main}'s signature rather than from
     * {@code has_token_input_output}.
     */
    static final int VERSION = 9;

    private final TfApi api;
    private final List<TensorType> inputs;
    private final List<TensorType> outputs;
    private final int[] inputTfTypes;
    private final int[] outputTfTypes;
    private final ReentrantLock lock = new ReentrantLock();
    // Everything below is native and lives until close().
    private final Arena arena;
    private final TfStatus status;
    private final MemorySegment graph;
    private final MemorySegment session;
    private final MemorySegment feeds;
    private final MemorySegment fetches;
    private final MemorySegment[] inputDims;
    private final MemorySegment inputValues;
    private final MemorySegment outputValues;
    private boolean closed;

    private XlaCallModuleExecutor(TfApi api, List<TensorType> inputs, List<TensorType> outputs, Arena arena,
                                  TfStatus status, MemorySegment graph, MemorySegment session,
                                  MemorySegment feeds, MemorySegment fetches, MemorySegment[] inputDims) {
        this.api = api;
        this.inputs = inputs;
        this.outputs = outputs;
        this.inputTfTypes = inputs.stream().mapToInt(t -> TfTypes.of(t.dtype())).toArray();
        this.outputTfTypes = outputs.stream().mapToInt(t -> TfTypes.of(t.dtype())).toArray();
        this.arena = arena;
        this.status = status;
        this.graph = graph;
        this.session = session;
        this.feeds = feeds;
        this.fetches = fetches;
        this.inputDims = inputDims;
        this.inputValues = arena.allocate(ADDRESS, Math.max(1, inputs.size()));
        this.outputValues = arena.allocate(ADDRESS, Math.max(1, outputs.size()));
    }

    /**
     * Builds the graph and session for {@code stableHloText}, whose {@code @main} takes
     * {@code inputs} and returns {@code outputs}.
     *
     * @throws IllegalArgumentException when {@code @main}'s signature is not {@code inputs -> outputs}
     *     (TF itself does not check the result types, and a wrong one would read past a buffer)
     * @throws IllegalStateException when TensorFlow's library cannot be loaded, naming why
     * @throws TfException when TF refuses the graph (the module's body is checked by the first run)
     */
    public static XlaCallModuleExecutor compile(String stableHloText, List<TensorType> inputs, List<TensorType> outputs) {
        return compile(stableHloText, inputs, outputs, VERSION);
    }

    /** As {@link #compile(String, List, List)}, with the types {@code @main}'s signature declares. */
    public static XlaCallModuleExecutor compile(String stableHloText) {
        MainSignature m = MainSignature.of(stableHloText);
        return compile(stableHloText, m.arguments(), m.results());
    }

    /** With another {@code version} attribute: for the test that pins {@link #VERSION} to the library. */
    static XlaCallModuleExecutor compile(String stableHloText, List<TensorType> inputs, List<TensorType> outputs, int version) {
        List<TensorType> in = List.copyOf(inputs);
        List<TensorType> out = List.copyOf(outputs);
        MainSignature.of(stableHloText).require(in, out);
        refuseReplicaQueries(stableHloText);
        TfApi api = TfApi.get();
        Arena arena = Arena.ofShared();
        TfStatus status = null;
        MemorySegment graph = null;
        try {
            status = new TfStatus(api);
            graph = api.newGraph();
            MemorySegment feeds = arena.allocate(TfApi.TF_OUTPUT, Math.max(1, in.size()));
            MemorySegment[] inputDims = new MemorySegment[in.size()];
            try (Arena scratch = Arena.ofConfined()) {
                for (int i = 0; i < in.size(); i++) {
                    TensorType t = in.get(i);
                    long[] dims = dims(t);
                    inputDims[i] = TfApi.longs(arena, dims);
                    MemorySegment desc = api.newOperation(scratch, graph, "Placeholder", "arg" + i);
                    api.setAttrType(scratch, desc, "dtype", TfTypes.of(t.dtype()));
                    api.setAttrShape(scratch, desc, "shape", dims);
                    MemorySegment op = api.finishOperation(desc, status.reset());
                    status.check("adding Placeholder arg" + i + " (" + t + ")");
                    setOutput(feeds, i, op, 0);
                }

                MemorySegment desc = api.newOperation(scratch, graph, "XlaCallModule", "module");
                // Tin is inferred from this list.
                api.addInputList(desc, feeds, in.size());
                api.setAttrInt(scratch, desc, "version", version);
                api.setAttrString(scratch, desc, "module", stableHloText.getBytes(StandardCharsets.UTF_8));
                api.setAttrTypeList(scratch, desc, "Tout", out.stream().mapToInt(t -> TfTypes.of(t.dtype())).toArray());
                api.setAttrShapeList(scratch, desc, "Sout", out.stream().map(XlaCallModuleExecutor::dims).toArray(long[][]::new));
                // One platform, so @main takes no platform-index argument. An empty list is refused
                // from version 6 on ("must have non-empty platforms").
                api.setAttrStringList(scratch, desc, "platforms", new byte[][] {"CPU".getBytes(StandardCharsets.US_ASCII)});
                MemorySegment module = api.finishOperation(desc, status.reset());
                status.check("adding the XlaCallModule node");

                MemorySegment fetches = arena.allocate(TfApi.TF_OUTPUT, Math.max(1, out.size()));
                for (int i = 0; i < out.size(); i++) setOutput(fetches, i, module, i);

                MemorySegment options = api.newSessionOptions();
                MemorySegment session;
                try {
                    session = api.newSession(graph, options, status.reset());
                } finally {
                    api.deleteSessionOptions(options);
                }
                status.check("creating the TF session");
                return new XlaCallModuleExecutor(api, in, out, arena, status, graph, session, feeds, fetches, inputDims);
            }
        } catch (RuntimeException | Error e) {
            if (graph != null) api.deleteGraph(graph);
            if (status != null) status.close();
            arena.close();
            throw e;
        }
    }

    /**
     * Ops that ask which replica they run on. TensorFlow's XLA JIT compiles modules with no device
     * assignment, and these dereference it: on TF 2.18 a one-replica {@code stablehlo.replica_id}
     * died with SIGSEGV in {@code xla::DeviceAssignment::LogicalIdForDevice}. (A one-replica
     * {@code all_reduce} runs, as XLA removes it; {@code all_gather} and {@code reduce_scatter}
     * fail cleanly, "Device assignment is null".)
     */
    private static final java.util.regex.Pattern REPLICA_QUERY = java.util.regex.Pattern.compile("stablehlo\\.(replica_id|partition_id)\\b");

    private static void refuseReplicaQueries(String text) {
        java.util.regex.Matcher m = REPLICA_QUERY.matcher(text);
        if (m.find())
            throw new IllegalArgumentException("XLA:CPU through XlaCallModule cannot run " + m.group()
                    + ": it has no device assignment (TensorFlow crashes on it); collectives need a PJRT client");
    }

    public List<TensorType> inputs() { return inputs; }

    public List<TensorType> outputs() { return outputs; }

    /**
     * Runs the module: {@code inputs.get(i)} holds input i row-major, exactly its type's
     * {@link TensorType#byteSize()} bytes, and {@code outputs.get(i)} receives result i the same way.
     * Heap and native segments both work.
     *
     * @throws IllegalArgumentException for the wrong number or size of segments, or a read-only output
     * @throws IllegalStateException after {@link #close()}
     * @throws TfException when TF or XLA fails, the first run's parse and compile errors included
     */
    public void run(List<MemorySegment> inputs, List<MemorySegment> outputs) {
        checkSegments("input", inputs, this.inputs);
        checkSegments("output", outputs, this.outputs);
        for (int i = 0; i < outputs.size(); i++) {
            if (outputs.get(i).isReadOnly()) throw new IllegalArgumentException("output " + i + " is a read-only segment");
        }
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("this XlaCallModuleExecutor is closed");
            try {
                for (int i = 0; i < inputs.size(); i++) {
                    TensorType t = this.inputs.get(i);
                    MemorySegment tensor = api.allocateTensor(inputTfTypes[i], inputDims[i], t.shape().rank(), t.byteSize());
                    if (tensor.equals(MemorySegment.NULL)) throw new OutOfMemoryError("TensorFlow could not allocate input " + i + " (" + t + ")");
                    inputValues.setAtIndex(ADDRESS, i, tensor);
                    MemorySegment.copy(inputs.get(i), 0, api.tensorData(tensor), 0, t.byteSize());
                }
                api.sessionRun(session, feeds, inputValues, inputs.size(), fetches, outputValues, outputs.size(), status.reset());
                status.check("running the XlaCallModule");
                for (int i = 0; i < outputs.size(); i++) {
                    MemorySegment data = checkedResult(i);
                    MemorySegment.copy(data, 0, outputs.get(i), 0, data.byteSize());
                }
            } finally {
                for (int i = 0; i < inputs.size(); i++) deleteAndClear(inputValues, i);
                for (int i = 0; i < outputs.size(); i++) deleteAndClear(outputValues, i);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Frees the session and graph; idempotent, and waits for a run in progress. */
    @Override public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            TfException failure = null;
            try {
                api.closeSession(session, status.reset());
                status.check("closing the TF session");
            } catch (TfException e) {
                failure = e;
            }
            try {
                api.deleteSession(session, status.reset());
                status.check("deleting the TF session");
            } catch (TfException e) {
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
            api.deleteGraph(graph);
            status.close();
            arena.close();
            if (failure != null) throw failure;
        } finally {
            lock.unlock();
        }
    }

    /** Result {@code i}'s bytes, once its type and shape are confirmed to be what Tout and Sout promised. */
    private MemorySegment checkedResult(int i) {
        MemorySegment tensor = outputValues.getAtIndex(ADDRESS, i);
        TensorType expected = outputs.get(i);
        long[] dims = new long[api.numDims(tensor)];
        for (int d = 0; d < dims.length; d++) dims[d] = api.dim(tensor, d);
        MemorySegment data = api.tensorData(tensor);
        if (api.tensorType(tensor) != outputTfTypes[i] || !Arrays.equals(dims, dims(expected)) || data.byteSize() != expected.byteSize()) {
            throw new IllegalStateException("XlaCallModule result " + i + " is TF_DataType " + api.tensorType(tensor) + Arrays.toString(dims)
                    + " with " + data.byteSize() + " bytes, not the declared " + expected);
        }
        return data;
    }

    private void deleteAndClear(MemorySegment tensors, int i) {
        MemorySegment t = tensors.getAtIndex(ADDRESS, i);
        if (!t.equals(MemorySegment.NULL)) api.deleteTensor(t);
        tensors.setAtIndex(ADDRESS, i, MemorySegment.NULL);
    }

    private static void checkSegments(String what, List<MemorySegment> segments, List<TensorType> types) {
        if (segments.size() != types.size()) {
            throw new IllegalArgumentException("the module takes " + types.size() + " " + what + "s, not " + segments.size());
        }
        for (int i = 0; i < types.size(); i++) {
            long size = segments.get(i).byteSize();
            if (size != types.get(i).byteSize()) {
                throw new IllegalArgumentException(what + " " + i + " (" + types.get(i) + ") needs " + types.get(i).byteSize()
                        + " bytes, the segment has " + size + " (pass a slice of exactly that size)");
            }
        }
    }

    private static void setOutput(MemorySegment array, int i, MemorySegment operation, int index) {
        MemorySegment element = array.asSlice(i * TfApi.TF_OUTPUT.byteSize(), TfApi.TF_OUTPUT);
        element.set(ADDRESS, 0, operation);
        element.set(JAVA_INT, ADDRESS.byteSize(), index);
    }

    private static long[] dims(TensorType t) {
        return Arrays.stream(t.shape().dims()).asLongStream().toArray();
    }
}
