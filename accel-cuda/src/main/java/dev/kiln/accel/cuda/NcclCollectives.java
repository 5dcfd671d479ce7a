package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.Loader;
import java.util.concurrent.locks.LockSupport;

/**
 * NCCL collectives on the accelerator's stream, so they are ordered with the compute around them.
 * The multi-rank path is one process per GPU: rank 0 makes a group id ({@link #newGroupId()},
 * NCCL's unique id), the launcher shares it, every rank joins with it.
 *
 * <p>Each call returns only when its work on the stream has finished, polling the stream and
 * {@code ncclCommGetAsyncError} as PyTorch's NCCL watchdog does. NCCL reports a dead peer or a
 * broken connection only through that asynchronous error, while the stream's kernels spin
 * forever; a call that merely enqueued would hang the next {@code cudaStreamSynchronize}
 * wherever it happens, outside any deadline. Waiting here puts the wait under the process
 * group's deadline (its watchdog then calls {@link #abort()}, which ends this loop) and turns
 * NCCL's asynchronous error into an exception naming the call.
 */
final class NcclCollectives implements Collectives {
    private static final int ID_BYTES = 128;

    private final CudaAccelerator acc;
    private final int rank, size;
    private final ncclComm comm = new ncclComm();
    private final CudaBuffer token;
    /** Set by {@link #abort()} from the watchdog's thread while a call may be polling on the communication thread. */
    private volatile boolean closed;
    /** Held around every use of {@code comm} so that {@link #abort()} never frees it under a poll. */
    private final Object commLock = new Object();

    NcclCollectives(CudaAccelerator acc, int rank, int size, byte[] groupId) {
        if (!available()) throw new UnsupportedOperationException("cuda collectives need NCCL (libnccl.so.2), which did not load");
        if (size < 1 || rank < 0 || rank >= size) throw new IllegalArgumentException("bad rank " + rank + " of " + size);
        if (groupId == null && size != 1) throw new IllegalArgumentException("a group of " + size + " ranks needs the group id rank 0 made");
        this.acc = acc;
        this.rank = rank;
        this.size = size;
        acc.device().bind();
        ncclUniqueId id = new ncclUniqueId();
        byte[] bytes = groupId != null ? groupId : newGroupId();
        if (bytes.length != ID_BYTES) throw new IllegalArgumentException("a NCCL group id has " + ID_BYTES + " bytes, got " + bytes.length);
        for (int i = 0; i < ID_BYTES; i++) id.internal(i, bytes[i]);
        check(nccl.ncclCommInitRank(comm, size, id, rank), "ncclCommInitRank");
        token = acc.allocate(dev.kiln.spi.ir.TensorType.of(DType.F32, 1));
    }

    /** Whether libnccl.so.2 loads here; checked once. */
    static boolean available() { return Holder.LOADED; }

    private static final class Holder {
        static final boolean LOADED = load();

        private static boolean load() {
            try {
                Loader.load(nccl.class);
                return true;
            } catch (Throwable t) {
                return false;
            }
        }
    }

    static byte[] newGroupId() {
        if (!available()) throw new UnsupportedOperationException("cuda collectives need NCCL (libnccl.so.2), which did not load");
        ncclUniqueId id = new ncclUniqueId();
        check(nccl.ncclGetUniqueId(id), "ncclGetUniqueId");
        byte[] b = new byte[ID_BYTES];
        for (int i = 0; i < ID_BYTES; i++) b[i] = id.internal(i);
        return b;
    }

    @Override public int rank() { return rank; }

    @Override public int size() { return size; }

    @Override public void allReduce(Buffer in, Buffer out) {
        CudaBuffer a = same(in, out, 1, "allReduce");
        check(nccl.ncclAllReduce(ptr(a), ptr(acc.cuda(out)), count(in), type(in), nccl.ncclSum, comm, acc.stream().handle()), "ncclAllReduce");
        await("ncclAllReduce");
    }

    @Override public void allReduceAverage(Buffer in, Buffer out) {
        CudaBuffer a = same(in, out, 1, "allReduceAverage");
        check(nccl.ncclAllReduce(ptr(a), ptr(acc.cuda(out)), count(in), type(in), nccl.ncclAvg, comm, acc.stream().handle()), "ncclAllReduce(avg)");
        await("ncclAllReduce(avg)");
    }

    @Override public void broadcast(Buffer in, Buffer out, int root) {
        CudaBuffer a = same(in, out, 1, "broadcast");
        check(nccl.ncclBroadcast(ptr(a), ptr(acc.cuda(out)), count(in), type(in), root, comm, acc.stream().handle()), "ncclBroadcast");
        await("ncclBroadcast");
    }

    @Override public void allGather(Buffer in, Buffer out) {
        CudaBuffer a = same(in, out, size, "allGather");
        check(nccl.ncclAllGather(ptr(a), ptr(acc.cuda(out)), count(in), type(in), comm, acc.stream().handle()), "ncclAllGather");
        await("ncclAllGather");
    }

    @Override public void reduceScatter(Buffer in, Buffer out) {
        CudaBuffer a = same(out, in, size, "reduceScatter");
        check(nccl.ncclReduceScatter(ptr(acc.cuda(in)), ptr(a), count(out), type(in), nccl.ncclSum, comm, acc.stream().handle()), "ncclReduceScatter");
        await("ncclReduceScatter");
    }

    /** A one-element all-reduce every rank must join. */
    @Override public void barrier() {
        check(nccl.ncclAllReduce(ptr(token), ptr(token), 1, nccl.ncclFloat32, nccl.ncclSum, comm, acc.stream().handle()), "ncclAllReduce(barrier)");
        await("ncclAllReduce(barrier)");
    }

    /**
     * Until the stream has run everything enqueued so far: {@code cudaStreamQuery} and
     * {@code ncclCommGetAsyncError} in turn, spinning briefly (a collective of a few megabytes
     * takes tens of microseconds on NVLink) and then parking 50 us between polls.
     */
    private void await(String call) {
        int[] error = new int[1];
        for (int polls = 0; ; polls++) {
            int q = cudart.cudaStreamQuery(acc.stream().handle());
            if (q == cudart.cudaSuccess) return;
            if (q != cudart.cudaErrorNotReady) CudaCheck.rt(q, "cudaStreamQuery after " + call);
            synchronized (commLock) {
                if (closed) throw new CudaException(call + " was abandoned: the communicator of rank " + rank + " was aborted");
                check(nccl.ncclCommGetAsyncError(comm, error), "ncclCommGetAsyncError after " + call);
            }
            if (error[0] != nccl.ncclSuccess && error[0] != nccl.ncclInProgress) {
                throw new CudaException(call + " failed on rank " + rank + " of " + size + ": " + nccl.ncclGetErrorString(error[0]).getString()
                        + " (asynchronous ncclResult " + error[0] + "; a peer may have died)");
            }
            if (polls < 1_000) Thread.onSpinWait();
            else LockSupport.parkNanos(50_000);
        }
    }

    /** Checks that {@code big} has {@code factor} times {@code small}'s elements, same dtype; returns {@code small} as a device buffer. */
    private CudaBuffer same(Buffer small, Buffer big, int factor, String op) {
        if (closed) throw new IllegalStateException("collectives are closed");
        acc.ensureOpen();
        acc.device().bind();
        if (small.type().dtype() != big.type().dtype() || small.type().shape().size() * factor != big.type().shape().size()) {
            throw new IllegalArgumentException(op + ": buffers " + small.type() + " and " + big.type() + " do not match for " + size + " ranks");
        }
        return acc.cuda(small);
    }

    private static DevicePointer ptr(CudaBuffer b) { return new DevicePointer(b.address()); }

    private static long count(Buffer b) { return b.type().shape().size(); }

    private static int type(Buffer b) {
        return switch (b.type().dtype()) {
            case F32 -> nccl.ncclFloat32;
            case F64 -> nccl.ncclFloat64;
            case BF16 -> nccl.ncclBfloat16;
            case F16 -> nccl.ncclFloat16;
            case I32 -> nccl.ncclInt32;
            case I64 -> nccl.ncclInt64;
            case I8 -> nccl.ncclInt8;
            case BOOL -> nccl.ncclUint8;
        };
    }

    private static void check(int rc, String call) {
        if (rc != nccl.ncclSuccess) throw new CudaException(call + " failed: " + nccl.ncclGetErrorString(rc).getString() + " (ncclResult " + rc + ")");
    }

    /** What PyTorch's NCCL watchdog does with a hung communicator: {@code ncclCommAbort} instead of a destroy that would wait. */
    @Override public void abort() {
        synchronized (commLock) {
            if (closed) return;
            closed = true;
            nccl.ncclCommAbort(comm);
        }
    }

    @Override public void close() {
        synchronized (commLock) {
            if (closed) return;
            closed = true;
            if (acc.isClosed()) return;
            acc.device().bind();
            acc.stream().sync();
            nccl.ncclCommDestroy(comm);
            token.close();
        }
    }
}
