package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Collectives over MPI's world, for the oneDNN accelerator's host buffers. The launcher (mpirun,
 * mpiexec, srun) makes the group, so the group id is not needed: a rank joins with the rank and
 * size the launcher gave it, which must agree with MPI_Comm_rank and MPI_Comm_size of
 * MPI_COMM_WORLD. Every call blocks until this rank's part is done, which on the CPU is the same
 * as being ordered with the accelerator's other work (kernels run synchronously there).
 *
 * <p>Sums take f32, f64 and bf16. MPI has no bf16 type, so a bf16 sum widens to f32, sums in
 * f32 and rounds back to bf16 once (nearest even): one rounding instead of one per rank. The
 * average divides the sum by the group size in the element's precision (in f32 for bf16), exact
 * for power-of-two groups. Broadcast and all-gather move bytes and take every dtype.
 *
 * <p>The traffic runs on a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN, so an application's
 * own MPI messages cannot match Kiln's and an MPI error becomes an {@link MpiException} instead of
 * aborting the job. MPI has no timeouts: a rank that never makes a call its peers make hangs them.
 */
final class MpiCollectives implements Collectives {
    private final OneDnnAccelerator accelerator;
    private final MpiProcess mpi;
    private final MpiBinding binding;
    private final MpiHandles handles;
    private final Object comm;
    private final int rank, size;
    private boolean closed;

    private MpiCollectives(OneDnnAccelerator accelerator, MpiProcess mpi, Object comm, int rank, int size) {
        this.accelerator = accelerator;
        this.mpi = mpi;
        this.binding = mpi.binding();
        this.handles = binding.handles();
        this.comm = comm;
        this.rank = rank;
        this.size = size;
    }

    /** Joins MPI's world as {@code rank} of {@code size}; every rank must call it (it duplicates the world communicator). */
    static MpiCollectives join(OneDnnAccelerator accelerator, int rank, int size) {
        if (size < 1 || rank < 0 || rank >= size) throw new IllegalArgumentException("bad rank " + rank + " of " + size);
        MpiProcess mpi = MpiProcess.get();
        mpi.lock().lock();
        try {
            int worldRank = mpi.worldRank(), worldSize = mpi.worldSize();
            if (worldRank != rank || worldSize != size) {
                throw new IllegalArgumentException("MPI's world has this process as rank " + worldRank + " of " + worldSize
                        + " (the launcher, e.g. mpirun -np, decides), but collectives were asked for rank " + rank + " of " + size
                        + "; " + mpi.library().describe());
            }
            Object comm = mpi.binding().dup(mpi.binding().handles().commWorld());
            mpi.binding().returnErrors(comm);
            return new MpiCollectives(accelerator, mpi, comm, rank, size);
        } finally {
            mpi.lock().unlock();
        }
    }

    @Override public int rank() { return rank; }

    @Override public int size() { return size; }

    @Override public void allReduce(Buffer in, Buffer out) { reduce(in, out, false); }

    @Override public void allReduceAverage(Buffer in, Buffer out) { reduce(in, out, true); }

    private void reduce(Buffer in, Buffer out, boolean average) {
        match(in, out, 1, "allReduce");
        int count = count(out, "allReduce");
        DType dtype = summable(out, "allReduce");
        MemorySegment o = OneDnnAccelerator.output(out, "allReduce");
        locked(() -> {
            if (dtype == DType.BF16) {
                try (Arena scratch = Arena.ofConfined()) {
                    MemorySegment wide = widen(OneDnnAccelerator.segment(in), count, scratch);
                    binding.allreduce(handles.inPlace(), wide, count, handles.f32(), comm);
                    if (average) divideF32(wide, count);
                    narrow(wide, o, count);
                }
            } else {
                MemorySegment send = in == out ? handles.inPlace() : OneDnnAccelerator.segment(in);
                binding.allreduce(send, o, count, mpiType(dtype), comm);
                if (average) divide(dtype, o, count);
            }
        });
    }

    @Override public void broadcast(Buffer in, Buffer out, int root) {
        match(in, out, 1, "broadcast");
        if (root < 0 || root >= size) throw new IllegalArgumentException("broadcast: root " + root + " is not a rank of " + size);
        int bytes = bytes(out, "broadcast");
        MemorySegment o = OneDnnAccelerator.output(out, "broadcast");
        if (rank == root && in != out) o.copyFrom(OneDnnAccelerator.segment(in).asSlice(0, bytes));
        locked(() -> binding.bcast(o, bytes, handles.bytes(), root, comm));
    }

    @Override public void allGather(Buffer in, Buffer out) {
        match(in, out, size, "allGather");
        int bytes = bytes(in, "allGather");
        bytes(out, "allGather");
        MemorySegment i = OneDnnAccelerator.segment(in), o = OneDnnAccelerator.output(out, "allGather");
        locked(() -> binding.allgather(i, bytes, handles.bytes(), o, comm));
    }

    @Override public void reduceScatter(Buffer in, Buffer out) {
        match(out, in, size, "reduceScatter");
        int block = count(out, "reduceScatter");
        count(in, "reduceScatter");
        DType dtype = summable(out, "reduceScatter");
        MemorySegment i = OneDnnAccelerator.segment(in), o = OneDnnAccelerator.output(out, "reduceScatter");
        locked(() -> {
            if (dtype == DType.BF16) {
                try (Arena scratch = Arena.ofConfined()) {
                    MemorySegment wide = widen(i, block * size, scratch);
                    // In place, this rank's block of the sum lands at the start of the send buffer.
                    binding.reduceScatterBlock(handles.inPlace(), wide, block, handles.f32(), comm);
                    narrow(wide, o, block);
                }
            } else {
                binding.reduceScatterBlock(i, o, block, mpiType(dtype), comm);
            }
        });
    }

    @Override public void barrier() { locked(() -> binding.barrier(comm)); }

    /**
     * MPI 3.1 cannot cancel a blocked collective (and Debian's Open MPI has no ULFM), so aborting
     * only refuses further calls and keeps MPI from being finalised; the blocked thread stays.
     */
    @Override public void abort() {
        aborted = true;
        mpi.abandon();
    }

    private volatile boolean aborted;

    /** Frees Kiln's communicator; like every MPI communicator call, all ranks should close together. */
    @Override public void close() {
        if (aborted) return; // the lock may be held by a collective that never returns
        mpi.lock().lock();
        try {
            if (closed) return;
            closed = true;
            if (!binding.finalized()) binding.free(comm);
        } finally {
            mpi.lock().unlock();
        }
    }

    /** The binding itself, for tests that must reach MPI's own argument checks past this class's. */
    MpiBinding binding() { return binding; }

    Object communicator() { return comm; }

    private void locked(Runnable call) {
        if (aborted) throw new IllegalStateException("MPI collectives were aborted after a failed or timed-out collective");
        mpi.lock().lock();
        try {
            if (closed) throw new IllegalStateException("MPI collectives are closed");
            accelerator.ensureOpen();
            call.run();
        } finally {
            mpi.lock().unlock();
        }
    }

    private void match(Buffer small, Buffer big, int factor, String op) {
        if (small.type().dtype() != big.type().dtype() || small.type().shape().size() * factor != big.type().shape().size()) {
            throw new IllegalArgumentException(op + ": buffers " + small.type() + " and " + big.type() + " do not match for " + size + " ranks");
        }
    }

    private static DType summable(Buffer b, String op) {
        DType d = b.type().dtype();
        if (d != DType.F32 && d != DType.F64 && d != DType.BF16) {
            throw new UnsupportedOperationException(op + ": MPI collectives sum f32, f64 and bf16, not " + d);
        }
        return d;
    }

    private Object mpiType(DType d) { return d == DType.F64 ? handles.f64() : handles.f32(); }

    /** MPI counts are C ints; a larger tensor would need splitting, which no caller has needed yet. */
    private static int count(Buffer b, String op) { return checkedInt(b.type().shape().size(), "elements", b, op); }

    private static int bytes(Buffer b, String op) { return checkedInt(b.type().byteSize(), "bytes", b, op); }

    private static int checkedInt(long n, String unit, Buffer b, String op) {
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": " + b.type() + " has " + n + " " + unit + ", more than an MPI count holds");
        return (int) n;
    }

    private static MemorySegment widen(MemorySegment bf16, int count, Arena scratch) {
        MemorySegment wide = scratch.allocate((long) count * Float.BYTES, 64);
        for (int k = 0; k < count; k++) wide.setAtIndex(Elements.F32, k, Elements.bf16(bf16.getAtIndex(Elements.I16, k)));
        return wide;
    }

    private static void narrow(MemorySegment wide, MemorySegment bf16, int count) {
        for (int k = 0; k < count; k++) bf16.setAtIndex(Elements.I16, k, Elements.bf16(wide.getAtIndex(Elements.F32, k)));
    }

    private void divide(DType d, MemorySegment s, int count) {
        if (d == DType.F64) {
            for (int k = 0; k < count; k++) s.setAtIndex(Elements.F64, k, s.getAtIndex(Elements.F64, k) / size);
        } else {
            divideF32(s, count);
        }
    }

    private void divideF32(MemorySegment s, int count) {
        for (int k = 0; k < count; k++) s.setAtIndex(Elements.F32, k, s.getAtIndex(Elements.F32, k) / size);
    }
}
