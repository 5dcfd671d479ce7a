package dev.kiln.accel.xla.tf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The part of TensorFlow's C API (tensorflow/c/c_api.h, tf_tensor.h, tf_status.h) that building and
 * running a one-op graph needs, as typed Java methods over FFM downcalls.
 *
 * <p>Pointers stay {@link MemorySegment}s of size zero: TF owns what they point to, and the callers
 * ({@link TfStatus}, {@link XlaCallModuleExecutor}) pair every {@code New}/{@code Allocate} with its
 * {@code Delete}. {@code size_t} is {@code long}: this binds only the 64-bit Linux library.
 */
@SuppressWarnings("restricted") // binding native code is what this class is for
final class TfApi {
    /** {@code TF_Output}: an operation and the index of one of its outputs. */
    static final StructLayout TF_OUTPUT = MemoryLayout.structLayout(
            ADDRESS.withName("oper"), JAVA_INT.withName("index"), MemoryLayout.paddingLayout(4));

    private static final MemorySegment EMPTY = Arena.global().allocateFrom("");
    private static volatile TfApi instance;

    private final MethodHandle newStatus, deleteStatus, setStatus, getCode, message;
    private final MethodHandle newGraph, deleteGraph;
    private final MethodHandle newOperation, addInputList, finishOperation;
    private final MethodHandle setAttrString, setAttrInt, setAttrType, setAttrTypeList, setAttrShape, setAttrShapeList, setAttrStringList;
    private final MethodHandle newSessionOptions, deleteSessionOptions, newSession, sessionRun, closeSession, deleteSession;
    private final MethodHandle allocateTensor, tensorData, tensorByteSize, deleteTensor, numDims, dim, tensorType;

    private TfApi(SymbolLookup lib) {
        Binder b = new Binder(lib);
        newStatus = b.bind("TF_NewStatus", FunctionDescriptor.of(ADDRESS));
        deleteStatus = b.bind("TF_DeleteStatus", FunctionDescriptor.ofVoid(ADDRESS));
        setStatus = b.bind("TF_SetStatus", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS));
        getCode = b.bind("TF_GetCode", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        message = b.bind("TF_Message", FunctionDescriptor.of(ADDRESS, ADDRESS));

        newGraph = b.bind("TF_NewGraph", FunctionDescriptor.of(ADDRESS));
        deleteGraph = b.bind("TF_DeleteGraph", FunctionDescriptor.ofVoid(ADDRESS));

        // TF_NewOperation(graph, op_type, oper_name)
        newOperation = b.bind("TF_NewOperation", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // TF_AddInputList(desc, const TF_Output* inputs, int num_inputs)
        addInputList = b.bind("TF_AddInputList", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_INT));
        finishOperation = b.bind("TF_FinishOperation", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // TF_SetAttrString(desc, name, const void* value, size_t length)
        setAttrString = b.bind("TF_SetAttrString", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        setAttrInt = b.bind("TF_SetAttrInt", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG));
        setAttrType = b.bind("TF_SetAttrType", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_INT));
        // TF_SetAttrTypeList(desc, name, const TF_DataType* values, int num_values)
        setAttrTypeList = b.bind("TF_SetAttrTypeList", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        // TF_SetAttrShape(desc, name, const int64_t* dims, int num_dims); num_dims -1 = unknown rank
        setAttrShape = b.bind("TF_SetAttrShape", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        // TF_SetAttrShapeList(desc, name, const int64_t* const* dims, const int* num_dims, int num_shapes)
        setAttrShapeList = b.bind("TF_SetAttrShapeList", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        // TF_SetAttrStringList(desc, name, const void* const* values, const size_t* lengths, int num_values)
        setAttrStringList = b.bind("TF_SetAttrStringList", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));

        newSessionOptions = b.bind("TF_NewSessionOptions", FunctionDescriptor.of(ADDRESS));
        deleteSessionOptions = b.bind("TF_DeleteSessionOptions", FunctionDescriptor.ofVoid(ADDRESS));
        newSession = b.bind("TF_NewSession", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // TF_SessionRun(session, run_options, inputs, input_values, ninputs, outputs, output_values,
        //               noutputs, target_opers, ntargets, run_metadata, status)
        sessionRun = b.bind("TF_SessionRun", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        closeSession = b.bind("TF_CloseSession", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        deleteSession = b.bind("TF_DeleteSession", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));

        // TF_AllocateTensor(TF_DataType, const int64_t* dims, int num_dims, size_t len)
        allocateTensor = b.bind("TF_AllocateTensor", FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
        tensorData = b.bind("TF_TensorData", FunctionDescriptor.of(ADDRESS, ADDRESS));
        tensorByteSize = b.bind("TF_TensorByteSize", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        deleteTensor = b.bind("TF_DeleteTensor", FunctionDescriptor.ofVoid(ADDRESS));
        numDims = b.bind("TF_NumDims", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        dim = b.bind("TF_Dim", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT));
        tensorType = b.bind("TF_TensorType", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /**
     * The bound API, loading the library on first use.
     *
     * @throws IllegalStateException when the library is unavailable, naming why
     */
    static TfApi get() {
        TfApi api = instance;
        if (api != null) return api;
        synchronized (TfApi.class) {
            if (instance == null) instance = new TfApi(TfNative.symbols());
            return instance;
        }
    }

    private record Binder(SymbolLookup lib) {
        MethodHandle bind(String name, FunctionDescriptor fd) {
            MemorySegment address = lib.find(name).orElseThrow(() -> new IllegalStateException("the TensorFlow library lacks " + name));
            return Linker.nativeLinker().downcallHandle(address, fd);
        }
    }

    // Downcalls throw only what the handle's target throws, and these are C functions; a Throwable
    // here is a binding bug, not a TF error.
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // --- TF_Status --------------------------------------------------------------------------

    MemorySegment newStatus() {
        try { return (MemorySegment) newStatus.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    void deleteStatus(MemorySegment s) {
        try { deleteStatus.invokeExact(s); } catch (Throwable t) { throw rethrow(t); }
    }

    /** Back to TF_OK: not every TF function clears a status it is handed before it reports success. */
    void resetStatus(MemorySegment s) {
        // The message must not be NULL: TF builds a string from it.
        try { setStatus.invokeExact(s, 0, EMPTY); } catch (Throwable t) { throw rethrow(t); }
    }

    int getCode(MemorySegment s) {
        try { return (int) getCode.invokeExact(s); } catch (Throwable t) { throw rethrow(t); }
    }

    String message(MemorySegment s) {
        try {
            MemorySegment m = (MemorySegment) message.invokeExact(s);
            return m.equals(MemorySegment.NULL) ? "" : m.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    // --- TF_Graph and TF_OperationDescription -----------------------------------------------

    MemorySegment newGraph() {
        try { return (MemorySegment) newGraph.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    void deleteGraph(MemorySegment g) {
        try { deleteGraph.invokeExact(g); } catch (Throwable t) { throw rethrow(t); }
    }

    MemorySegment newOperation(Arena arena, MemorySegment graph, String opType, String name) {
        try {
            return (MemorySegment) newOperation.invokeExact(graph, arena.allocateFrom(opType), arena.allocateFrom(name));
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@code inputs} holds {@code count} {@link #TF_OUTPUT}s. */
    void addInputList(MemorySegment desc, MemorySegment inputs, int count) {
        try { addInputList.invokeExact(desc, inputs, count); } catch (Throwable t) { throw rethrow(t); }
    }

    /** Consumes {@code desc} whatever the outcome; NULL on failure, with {@code status} set. */
    MemorySegment finishOperation(MemorySegment desc, MemorySegment status) {
        try { return (MemorySegment) finishOperation.invokeExact(desc, status); } catch (Throwable t) { throw rethrow(t); }
    }

    void setAttrString(Arena arena, MemorySegment desc, String name, byte[] value) {
        try {
            setAttrString.invokeExact(desc, arena.allocateFrom(name), bytes(arena, value), (long) value.length);
        } catch (Throwable t) { throw rethrow(t); }
    }

    void setAttrInt(Arena arena, MemorySegment desc, String name, long value) {
        try { setAttrInt.invokeExact(desc, arena.allocateFrom(name), value); } catch (Throwable t) { throw rethrow(t); }
    }

    void setAttrType(Arena arena, MemorySegment desc, String name, int tfType) {
        try { setAttrType.invokeExact(desc, arena.allocateFrom(name), tfType); } catch (Throwable t) { throw rethrow(t); }
    }

    void setAttrTypeList(Arena arena, MemorySegment desc, String name, int[] tfTypes) {
        try {
            setAttrTypeList.invokeExact(desc, arena.allocateFrom(name), ints(arena, tfTypes), tfTypes.length);
        } catch (Throwable t) { throw rethrow(t); }
    }

    void setAttrShape(Arena arena, MemorySegment desc, String name, long[] dims) {
        try {
            setAttrShape.invokeExact(desc, arena.allocateFrom(name), longs(arena, dims), dims.length);
        } catch (Throwable t) { throw rethrow(t); }
    }

    void setAttrShapeList(Arena arena, MemorySegment desc, String name, long[][] shapes) {
        MemorySegment dims = arena.allocate(ADDRESS, Math.max(1, shapes.length));
        MemorySegment ranks = arena.allocate(JAVA_INT, Math.max(1, shapes.length));
        for (int i = 0; i < shapes.length; i++) {
            dims.setAtIndex(ADDRESS, i, longs(arena, shapes[i]));
            ranks.setAtIndex(JAVA_INT, i, shapes[i].length);
        }
        try {
            setAttrShapeList.invokeExact(desc, arena.allocateFrom(name), dims, ranks, shapes.length);
        } catch (Throwable t) { throw rethrow(t); }
    }

    void setAttrStringList(Arena arena, MemorySegment desc, String name, byte[][] values) {
        MemorySegment pointers = arena.allocate(ADDRESS, Math.max(1, values.length));
        MemorySegment lengths = arena.allocate(JAVA_LONG, Math.max(1, values.length));
        for (int i = 0; i < values.length; i++) {
            pointers.setAtIndex(ADDRESS, i, bytes(arena, values[i]));
            lengths.setAtIndex(JAVA_LONG, i, values[i].length);
        }
        try {
            setAttrStringList.invokeExact(desc, arena.allocateFrom(name), pointers, lengths, values.length);
        } catch (Throwable t) { throw rethrow(t); }
    }

    // --- TF_Session -------------------------------------------------------------------------

    MemorySegment newSessionOptions() {
        try { return (MemorySegment) newSessionOptions.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    void deleteSessionOptions(MemorySegment options) {
        try { deleteSessionOptions.invokeExact(options); } catch (Throwable t) { throw rethrow(t); }
    }

    MemorySegment newSession(MemorySegment graph, MemorySegment options, MemorySegment status) {
        try { return (MemorySegment) newSession.invokeExact(graph, options, status); } catch (Throwable t) { throw rethrow(t); }
    }

    /**
     * Feeds {@code inputCount} tensors to the {@link #TF_OUTPUT}s {@code feeds} and fetches
     * {@code outputCount}: on success {@code outputValues} holds new tensors that the caller owns;
     * the input tensors stay the caller's too.
     */
    void sessionRun(MemorySegment session, MemorySegment feeds, MemorySegment inputValues, int inputCount,
                    MemorySegment fetches, MemorySegment outputValues, int outputCount, MemorySegment status) {
        try {
            sessionRun.invokeExact(session, MemorySegment.NULL, feeds, inputValues, inputCount,
                    fetches, outputValues, outputCount, MemorySegment.NULL, 0, MemorySegment.NULL, status);
        } catch (Throwable t) { throw rethrow(t); }
    }

    void closeSession(MemorySegment session, MemorySegment status) {
        try { closeSession.invokeExact(session, status); } catch (Throwable t) { throw rethrow(t); }
    }

    void deleteSession(MemorySegment session, MemorySegment status) {
        try { deleteSession.invokeExact(session, status); } catch (Throwable t) { throw rethrow(t); }
    }

    // --- TF_Tensor --------------------------------------------------------------------------

    /** {@code dims} holds {@code rank} int64s; NULL when TF cannot allocate. */
    MemorySegment allocateTensor(int tfType, MemorySegment dims, int rank, long byteSize) {
        try { return (MemorySegment) allocateTensor.invokeExact(tfType, dims, rank, byteSize); } catch (Throwable t) { throw rethrow(t); }
    }

    /** The tensor's bytes, sized by {@code TF_TensorByteSize}. */
    MemorySegment tensorData(MemorySegment tensor) {
        try {
            long size = (long) tensorByteSize.invokeExact(tensor);
            MemorySegment data = (MemorySegment) tensorData.invokeExact(tensor);
            return data.reinterpret(size);
        } catch (Throwable t) { throw rethrow(t); }
    }

    void deleteTensor(MemorySegment tensor) {
        try { deleteTensor.invokeExact(tensor); } catch (Throwable t) { throw rethrow(t); }
    }

    int numDims(MemorySegment tensor) {
        try { return (int) numDims.invokeExact(tensor); } catch (Throwable t) { throw rethrow(t); }
    }

    long dim(MemorySegment tensor, int index) {
        try { return (long) dim.invokeExact(tensor, index); } catch (Throwable t) { throw rethrow(t); }
    }

    int tensorType(MemorySegment tensor) {
        try { return (int) tensorType.invokeExact(tensor); } catch (Throwable t) { throw rethrow(t); }
    }

    // --- arguments --------------------------------------------------------------------------

    private static MemorySegment bytes(Arena arena, byte[] value) {
        // One byte more than asked: an empty value still gets a valid, non-NULL pointer.
        MemorySegment s = arena.allocate(value.length + 1L);
        MemorySegment.copy(value, 0, s, JAVA_BYTE, 0, value.length);
        return s;
    }

    private static MemorySegment ints(Arena arena, int[] values) {
        return values.length == 0 ? arena.allocate(JAVA_INT) : arena.allocateFrom(JAVA_INT, values);
    }

    static MemorySegment longs(Arena arena, long[] values) {
        return values.length == 0 ? arena.allocate(JAVA_LONG) : arena.allocateFrom(JAVA_LONG, values);
    }
}
