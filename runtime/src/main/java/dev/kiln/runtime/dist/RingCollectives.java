package dev.kiln.runtime.dist;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.kiln.core.DType;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * Collectives over plain TCP between the ranks, for jobs launched without MPI (torchrun-style
 * {@code RANK}/{@code WORLD_SIZE}/{@code MASTER_ADDR}/{@code MASTER_PORT}), where the only shared
 * service is the {@link RendezvousStore}: Kiln's counterpart of PyTorch's Gloo backend. Each rank
 * publishes a listening address in the store under {@code ring/}, connects to rank + 1 and
 * accepts rank - 1, which closes the ring.
 *
 * <p>Data stay in the accelerator's buffers between calls and pass through host staging memory
 * that this object keeps and grows. An all-reduce cuts the tensor into {@code size} chunks and runs
 * a reduce-scatter ({@code size - 1} steps, after which rank {@code c} holds the full sum of chunk
 * {@code c}) then an all-gather ({@code size - 1} steps that copy each owner's chunk around the
 * ring), so every rank sends and receives about twice the tensor whatever the group size. Sends,
 * receives and the summing of arrived bytes overlap within each step.
 *
 * <p>Determinism: chunk {@code c} is always summed in the same order, starting at rank
 * {@code c + 1} and ending at rank {@code c}, and the all-gather copies the owner's bits without
 * summing again, so the result is bit-identical on every rank and from run to run for a given
 * group size. bf16 is widened to f32, summed in f32 and rounded to bf16 once (nearest even), as
 * MPI collectives do; the average divides the sum by the group size in the element's precision
 * (f32 for bf16). Broadcast and all-gather move bytes and take every dtype.
 *
 * <p>Failures: a peer that closes its connection (a killed process) or sends nothing for the
 * timeout given at {@link #join} ends the call with a {@link CollectiveException} naming the call,
 * this rank and the peer. Every call starts by checking that the left neighbour made the same call,
 * so ranks whose calls diverge fail the same way instead of exchanging garbage. After any failure
 * the ring is broken for good (a half-finished transfer cannot be resynchronised): later calls
 * throw at once, and closing its sockets lets the failure travel around the ring to every rank.
 * Calls are serialized by a lock; close() from another thread makes a call in progress fail.
 */
public final class RingCollectives implements Collectives {
    /** The calls, in the order their codes go on the wire. */
    private enum Op {
        ALL_REDUCE("allReduce"), ALL_REDUCE_AVERAGE("allReduceAverage"), BROADCAST("broadcast"),
        ALL_GATHER("allGather"), REDUCE_SCATTER("reduceScatter"), BARRIER("barrier");

        final String label;

        Op(String label) { this.label = label; }
    }

    private static final int CALL_BYTES = 1 + 1 + 4 + 8 + 8;
    private static final int STAGE = 0, WORK = 1, RECEIVED = 2;

    private final Accelerator accelerator;
    private final int rank, size;
    private final RingLink link; // null for a group of one
    private final ReentrantLock lock = new ReentrantLock();
    private final Arena[] arenas = new Arena[3];
    private final MemorySegment[] staging = {MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL};
    private volatile boolean closed;
    private String broken;
    private long calls;

    private RingCollectives(Accelerator accelerator, int rank, int size, RingLink link) {
        this.accelerator = accelerator;
        this.rank = rank;
        this.size = size;
        this.link = link;
    }

    /**
     * Joins the ring of {@code size} ranks through {@code store}; every rank calls it, and it
     * returns once this rank is connected to both neighbours, or throws a {@link CollectiveException}
     * when that does not happen within {@code timeout}, which also bounds every later wait for a peer.
     */
    public static RingCollectives join(Accelerator accelerator, RendezvousStore store, int rank, int size, Duration timeout) {
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(timeout, "timeout");
        if (size < 1 || rank < 0 || rank >= size) throw new IllegalArgumentException("rank " + rank + " is not a rank of a group of " + size);
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        return new RingCollectives(accelerator, rank, size, size == 1 ? null : RingLink.open(store, rank, size, timeout));
    }

    @Override public int rank() { return rank; }

    @Override public int size() { return size; }

    @Override public void allReduce(Buffer in, Buffer out) { sum(Op.ALL_REDUCE, in, out, false); }

    @Override public void allReduceAverage(Buffer in, Buffer out) { sum(Op.ALL_REDUCE_AVERAGE, in, out, true); }

    private void sum(Op op, Buffer in, Buffer out, boolean average) {
        matching(op, in, out, in.type().shape().size() == out.type().shape().size(), SAME);
        DType dtype = summable(op, out);
        long n = out.type().shape().size();
        call(op, dtype, n, -1, () -> {
            MemorySegment work = widened(dtype, in, n);
            boolean f64 = dtype == DType.F64;
            reduceScatter(op, work, f64, n);
            long from = start(rank, n), to = start(rank + 1, n);
            if (average) divide(work, f64, from, to);
            if (dtype == DType.BF16) {
                MemorySegment narrow = staging(STAGE, n * 2);
                narrow(work, narrow, from, to); // the all-gather then moves half the bytes
                allGather(op, narrow, 2, n);
                accelerator.copyIn(narrow, out);
            } else {
                allGather(op, work, f64 ? 8 : 4, n);
                accelerator.copyIn(work, out);
            }
        });
    }

    @Override public void broadcast(Buffer in, Buffer out, int root) {
        Op op = Op.BROADCAST;
        matching(op, in, out, in.type().shape().size() == out.type().shape().size(), SAME);
        if (root < 0 || root >= size) throw new IllegalArgumentException("broadcast: root " + root + " is not a rank of " + size);
        long bytes = out.type().byteSize();
        call(op, out.type().dtype(), out.type().shape().size(), root, () -> {
            MemorySegment data = staging(WORK, bytes);
            if (rank == root) {
                accelerator.download(in, data);
                if (link != null) link.exchange(op.label, data, MemorySegment.NULL, false, null);
                if (in != out) accelerator.copyIn(data, out);
            } else {
                // Pipelined along the ring: each rank forwards what has arrived while the rest arrives.
                link.exchange(op.label, link.right == root ? MemorySegment.NULL : data, data, true, null);
                accelerator.copyIn(data, out);
            }
        });
    }

    @Override public void allGather(Buffer in, Buffer out) {
        Op op = Op.ALL_GATHER;
        matching(op, in, out, in.type().shape().size() * size == out.type().shape().size(),
                "out needs " + size + " times as many elements as in, one block per rank");
        long block = in.type().byteSize();
        call(op, in.type().dtype(), in.type().shape().size(), -1, () -> {
            MemorySegment data = staging(WORK, block * size);
            accelerator.download(in, data.asSlice(rank * block, block));
            allGather(op, data, 1, block * size);
            accelerator.copyIn(data, out);
        });
    }

    @Override public void reduceScatter(Buffer in, Buffer out) {
        Op op = Op.REDUCE_SCATTER;
        matching(op, in, out, out.type().shape().size() * size == in.type().shape().size(),
                "in needs " + size + " times as many elements as out, one block per rank");
        DType dtype = summable(op, out);
        long block = out.type().shape().size(), n = block * size;
        call(op, dtype, block, -1, () -> {
            MemorySegment work = widened(dtype, in, n);
            boolean f64 = dtype == DType.F64;
            reduceScatter(op, work, f64, n);
            long from = rank * block;
            if (dtype == DType.BF16) {
                MemorySegment narrow = staging(STAGE, n * 2);
                narrow(work, narrow, from, from + block);
                accelerator.copyIn(narrow.asSlice(from * 2), out);
            } else {
                accelerator.copyIn(work.asSlice(from * (f64 ? 8 : 4)), out);
            }
        });
    }

    /** {@code size - 1} rounds of passing the call's header right: after round k a rank knows ranks r-1..r-1-k arrived. */
    @Override public void barrier() {
        Op op = Op.BARRIER;
        call(op, DType.I8, 0, -1, () -> {
            for (int round = 1; round < size - 1; round++) agree(op, DType.I8, 0, -1, calls);
        });
    }

    /**
     * Closes the sockets, which wakes a call blocked on another thread (it fails) and tells the
     * neighbours at once; the staging memory stays until {@link #close()}.
     */
    @Override public void abort() {
        if (link != null) link.abort();
    }

    /** Wakes a call in progress on another thread (it fails), then frees sockets and staging. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        if (link != null) link.abort();
        lock.lock();
        try {
            if (link != null) link.close();
            for (int slot = 0; slot < arenas.length; slot++) {
                if (arenas[slot] != null) arenas[slot].close();
                arenas[slot] = null;
                staging[slot] = MemorySegment.NULL;
            }
        } finally {
            lock.unlock();
        }
    }

    private void call(Op op, DType dtype, long count, int root, Runnable body) {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException(op.label + ": these ring collectives are closed");
            if (broken != null)
                throw new CollectiveException(op.label + " on rank " + rank + " of " + size + ": the ring broke in an earlier call: " + broken);
            calls++;
            try {
                if (link != null) agree(op, dtype, count, root, calls);
                body.run();
            } catch (RuntimeException e) {
                // Peers are somewhere inside this call now: no later call could line up with theirs.
                if (link != null) {
                    broken = e.getMessage();
                    link.close();
                }
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Sends this call's header right and checks that the left neighbour's is the same. */
    private void agree(Op op, DType dtype, long count, int root, long seq) {
        byte[] mine = header(op, dtype, count, root, seq), theirs = new byte[CALL_BYTES];
        link.exchange(op.label, MemorySegment.ofArray(mine), MemorySegment.ofArray(theirs), false, null);
        if (!Arrays.equals(mine, theirs))
            throw link.failure(op.label, "rank " + link.left + " made " + describe(theirs) + " where this rank made " + describe(mine)
                    + "; every rank must make the same calls in the same order", null);
    }

    private static byte[] header(Op op, DType dtype, long count, int root, long seq) {
        byte[] h = new byte[CALL_BYTES];
        ByteBuffer.wrap(h).put((byte) op.ordinal()).put((byte) dtype.ordinal()).putInt(root).putLong(seq).putLong(count);
        return h;
    }

    private static String describe(byte[] header) {
        ByteBuffer b = ByteBuffer.wrap(header);
        int op = b.get(), dtype = b.get(), root = b.getInt();
        long seq = b.getLong(), count = b.getLong();
        String name = op >= 0 && op < Op.values().length ? Op.values()[op].label : "an unknown call " + op;
        String type = dtype >= 0 && dtype < DType.values().length ? DType.values()[dtype].label() : "dtype " + dtype;
        return "call #" + seq + ", " + name + " of " + count + " " + type + (root >= 0 ? " from root " + root : "");
    }

    /** Ring step s: send chunk r-s-1, add the left's chunk r-s-2 into this rank's; chunk r is complete at the end. */
    private void reduceScatter(Op op, MemorySegment work, boolean f64, long n) {
        int e = f64 ? 8 : 4;
        long largest = 0;
        for (int c = 0; c < size; c++) largest = Math.max(largest, start(c + 1, n) - start(c, n));
        MemorySegment received = staging(RECEIVED, largest * e);
        for (int step = 0; step < size - 1; step++) {
            int out = Math.floorMod(rank - step - 1, size), in = Math.floorMod(rank - step - 2, size);
            long first = start(in, n), count = start(in + 1, n) - first;
            link.exchange(op.label, chunk(work, out, n, e), received.asSlice(0, count * e), false, new Accumulate(work, first, received, f64));
        }
    }

    /** Ring step s: send chunk r-s (this rank's own at first), receive chunk r-s-1 in place. */
    private void allGather(Op op, MemorySegment data, int e, long n) {
        for (int step = 0; step < size - 1; step++) {
            int out = Math.floorMod(rank - step, size), in = Math.floorMod(rank - step - 1, size);
            link.exchange(op.label, chunk(data, out, n, e), chunk(data, in, n, e), false, null);
        }
    }

    /** First element of chunk c of n; chunks differ by at most one element, and are exact blocks when size divides n. */
    private long start(int c, long n) { return Math.multiplyExact(n, (long) c) / size; }

    private MemorySegment chunk(MemorySegment data, int c, long n, int e) {
        long from = start(c, n);
        return data.asSlice(from * e, (start(c + 1, n) - from) * e);
    }

    /** Sums arrived elements into the work chunk as bytes come in, so adding overlaps the transfer. */
    private static final class Accumulate implements LongConsumer {
        private final MemorySegment work, received;
        private final long first;
        private final boolean f64;
        private long done;

        Accumulate(MemorySegment work, long first, MemorySegment received, boolean f64) {
            this.work = work;
            this.first = first;
            this.received = received;
            this.f64 = f64;
        }

        @Override public void accept(long bytes) {
            long ready = bytes / (f64 ? 8 : 4);
            if (f64) {
                for (long i = done; i < ready; i++)
                    work.setAtIndex(JAVA_DOUBLE, first + i, work.getAtIndex(JAVA_DOUBLE, first + i) + received.getAtIndex(JAVA_DOUBLE, i));
            } else {
                for (long i = done; i < ready; i++)
                    work.setAtIndex(JAVA_FLOAT, first + i, work.getAtIndex(JAVA_FLOAT, first + i) + received.getAtIndex(JAVA_FLOAT, i));
            }
            done = ready;
        }
    }

    /** {@code in} on the host in the type it is summed in: itself, or f32 for bf16. */
    private MemorySegment widened(DType dtype, Buffer in, long n) {
        if (dtype != DType.BF16) {
            MemorySegment work = staging(WORK, n * dtype.byteSize());
            accelerator.download(in, work);
            return work;
        }
        MemorySegment narrow = staging(STAGE, n * 2), work = staging(WORK, n * 4);
        accelerator.download(in, narrow);
        for (long i = 0; i < n; i++) work.setAtIndex(JAVA_FLOAT, i, Float.intBitsToFloat((narrow.getAtIndex(JAVA_SHORT, i) & 0xFFFF) << 16));
        return work;
    }

    private static void narrow(MemorySegment wide, MemorySegment bf16, long from, long to) {
        for (long i = from; i < to; i++) bf16.setAtIndex(JAVA_SHORT, i, bf16(wide.getAtIndex(JAVA_FLOAT, i)));
    }

    /** Rounds to nearest even; a NaN stays a (quiet) NaN instead of rounding into infinity. */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x0040);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private void divide(MemorySegment work, boolean f64, long from, long to) {
        if (f64) {
            for (long i = from; i < to; i++) work.setAtIndex(JAVA_DOUBLE, i, work.getAtIndex(JAVA_DOUBLE, i) / size);
        } else {
            float s = size;
            for (long i = from; i < to; i++) work.setAtIndex(JAVA_FLOAT, i, work.getAtIndex(JAVA_FLOAT, i) / s);
        }
    }

    /** Host memory of at least {@code bytes} in one of the reusable slots; grows and never shrinks. */
    private MemorySegment staging(int slot, long bytes) {
        if (staging[slot].byteSize() < bytes) {
            if (arenas[slot] != null) arenas[slot].close();
            staging[slot] = MemorySegment.NULL;
            arenas[slot] = Arena.ofShared(); // calls may come from any thread
            staging[slot] = arenas[slot].allocate(Math.max(bytes, 64), 64);
        }
        return staging[slot].asSlice(0, bytes);
    }

    private static final String SAME = "in and out need the same number of elements";

    private static void matching(Op op, Buffer in, Buffer out, boolean counts, String rule) {
        if (in.type().dtype() != out.type().dtype())
            throw new IllegalArgumentException(op.label + ": in " + in.type() + " and out " + out.type() + " differ in dtype");
        if (!counts) throw new IllegalArgumentException(op.label + ": in " + in.type() + " and out " + out.type() + " do not match: " + rule);
    }

    private static DType summable(Op op, Buffer b) {
        DType d = b.type().dtype();
        if (d != DType.F32 && d != DType.F64 && d != DType.BF16)
            throw new UnsupportedOperationException(op.label + ": ring collectives sum f32, f64 and bf16, not " + d.label());
        return d;
    }
}
