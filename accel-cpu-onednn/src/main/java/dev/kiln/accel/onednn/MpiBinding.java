package dev.kiln.accel.onednn;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The MPI functions Kiln calls, as FFM downcalls, each checked: a non-zero return becomes an
 * {@link MpiException} naming the call and carrying MPI_Error_string's text. Handles are passed
 * as {@link MpiHandles} represents them for the implementation, so the descriptors are built per
 * library rather than fixed. No call here is thread-safe by itself; {@link MpiProcess} serialises them.
 */
final class MpiBinding {
    static final int THREAD_SERIALIZED = 2, THREAD_MULTIPLE = 3; // the same in Open MPI and MPICH

    private final MpiHandles handles;
    private final MethodHandle initialized, finalized, initThread, queryThread, finalize, errorString;
    private final MethodHandle commRank, commSize, commDup, commFree, commSetErrhandler;
    private final MethodHandle allreduce, bcast, allgather, reduceScatterBlock, barrier;

    MpiBinding(MpiLibrary library, MpiHandles handles) {
        this.handles = handles;
        MemoryLayout h = handles.layout();
        Linker linker = Linker.nativeLinker();
        record Binder(MpiLibrary lib, Linker linker) {
            /** Adapted to {@code (Object[]) -> Object} once here, so a call costs no per-call adaptation. */
            MethodHandle bind(String name, MemoryLayout... args) {
                MethodHandle mh = linker.downcallHandle(lib.symbol(name), FunctionDescriptor.of(JAVA_INT, args));
                return mh.asType(mh.type().generic()).asSpreader(Object[].class, args.length);
            }
        }
        Binder b = new Binder(library, linker);
        initialized = b.bind("MPI_Initialized", ADDRESS);
        finalized = b.bind("MPI_Finalized", ADDRESS);
        initThread = b.bind("MPI_Init_thread", ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        queryThread = b.bind("MPI_Query_thread", ADDRESS);
        finalize = b.bind("MPI_Finalize");
        errorString = b.bind("MPI_Error_string", JAVA_INT, ADDRESS, ADDRESS);
        commRank = b.bind("MPI_Comm_rank", h, ADDRESS);
        commSize = b.bind("MPI_Comm_size", h, ADDRESS);
        commDup = b.bind("MPI_Comm_dup", h, ADDRESS);
        commFree = b.bind("MPI_Comm_free", ADDRESS);
        commSetErrhandler = b.bind("MPI_Comm_set_errhandler", h, h);
        allreduce = b.bind("MPI_Allreduce", ADDRESS, ADDRESS, JAVA_INT, h, h, h);
        bcast = b.bind("MPI_Bcast", ADDRESS, JAVA_INT, h, JAVA_INT, h);
        allgather = b.bind("MPI_Allgather", ADDRESS, JAVA_INT, h, ADDRESS, JAVA_INT, h, h);
        reduceScatterBlock = b.bind("MPI_Reduce_scatter_block", ADDRESS, ADDRESS, JAVA_INT, h, h, h);
        barrier = b.bind("MPI_Barrier", h);
    }

    MpiHandles handles() { return handles; }

    boolean initialized() { return flag(initialized, "MPI_Initialized"); }

    boolean finalized() { return flag(finalized, "MPI_Finalized"); }

    /** Initialises MPI asking for {@code required}; returns the level provided. argc/argv may be NULL since MPI 2. */
    int initThread(int required) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment provided = a.allocate(JAVA_INT);
            check(call(initThread, MemorySegment.NULL, MemorySegment.NULL, required, provided), "MPI_Init_thread");
            return provided.get(JAVA_INT, 0);
        }
    }

    int queryThread() { return intOut(queryThread, "MPI_Query_thread"); }

    void finalizeMpi() { check(call(finalize), "MPI_Finalize"); }

    int rank(Object comm) { return intOut(commRank, "MPI_Comm_rank", comm); }

    int size(Object comm) { return intOut(commSize, "MPI_Comm_size", comm); }

    /** A communicator of Kiln's own over the same ranks, so its traffic cannot match an application's messages. */
    Object dup(Object comm) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cell = a.allocate(handles.layout());
            check(call(commDup, comm, cell), "MPI_Comm_dup");
            return handles.read(cell);
        }
    }

    void free(Object comm) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cell = a.allocate(handles.layout());
            if (comm instanceof MemorySegment s) cell.set(ADDRESS, 0, s); else cell.set(JAVA_INT, 0, (Integer) comm);
            check(call(commFree, cell), "MPI_Comm_free");
        }
    }

    void returnErrors(Object comm) { check(call(commSetErrhandler, comm, handles.errorsReturn()), "MPI_Comm_set_errhandler"); }

    void allreduce(MemorySegment send, MemorySegment recv, int count, Object type, Object comm) {
        check(call(allreduce, send, recv, count, type, handles.sum(), comm), "MPI_Allreduce");
    }

    void bcast(MemorySegment buffer, int count, Object type, int root, Object comm) {
        check(call(bcast, buffer, count, type, root, comm), "MPI_Bcast");
    }

    void allgather(MemorySegment send, int count, Object type, MemorySegment recv, Object comm) {
        check(call(allgather, send, count, type, recv, count, type, comm), "MPI_Allgather");
    }

    void reduceScatterBlock(MemorySegment send, MemorySegment recv, int countPerRank, Object type, Object comm) {
        check(call(reduceScatterBlock, send, recv, countPerRank, type, handles.sum(), comm), "MPI_Reduce_scatter_block");
    }

    void barrier(Object comm) { check(call(barrier, comm), "MPI_Barrier"); }

    /** MPI_Error_string's text for {@code code}; MPICH's MPI_MAX_ERROR_STRING (512) is the larger of the two. */
    String errorString(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment text = a.allocate(1024);
            MemorySegment length = a.allocate(JAVA_INT);
            if (call(errorString, code, text, length) != 0) return "unknown MPI error";
            return text.getString(0).strip();
        }
    }

    private void check(int rc, String name) {
        if (rc != 0) throw new MpiException(name, rc, errorString(rc));
    }

    private boolean flag(MethodHandle mh, String name) { return intOut(mh, name) != 0; }

    private int intOut(MethodHandle mh, String name, Object... leading) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            Object[] args = java.util.Arrays.copyOf(leading, leading.length + 1);
            args[leading.length] = out;
            check(call(mh, args), name);
            return out.get(JAVA_INT, 0);
        }
    }

    /** Handles are Objects (a segment or an Integer) so one call path serves both ABIs. */
    private static int call(MethodHandle mh, Object... args) {
        try {
            return (Integer) (Object) mh.invokeExact(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
