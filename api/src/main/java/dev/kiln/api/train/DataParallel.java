package dev.kiln.api.train;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.dist.ProcessGroupException;
import dev.kiln.api.dist.ProcessGroupTimeoutException;
import dev.kiln.api.internal.Internal;
import dev.kiln.api.internal.Lease;
import dev.kiln.runtime.dist.CollectiveException;
import dev.kiln.runtime.dist.CollectiveTimeoutException;
import dev.kiln.runtime.dist.GuardedCollectives;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;

/**
 * What a trainer does across the ranks of the process group its {@link Kiln} was opened with:
 * start every rank from rank 0's state, average gradients, sum metrics, meet at barriers. Every
 * failure of the group reaches the caller as a {@link ProcessGroupException}, a timeout as its
 * subclass {@link ProcessGroupTimeoutException}.
 */
final class DataParallel {
    private final Kiln kiln;
    private final GuardedCollectives group;

    private DataParallel(Kiln kiln, GuardedCollectives group) {
        this.kiln = kiln;
        this.group = group;
    }

    /** Null when {@code kiln} is a single process. */
    static DataParallel of(Kiln kiln) {
        GuardedCollectives g = Internal.access().collectives(kiln);
        return g == null ? null : new DataParallel(kiln, g);
    }

    /** The same for every trainer on one Kiln's group: what a trainer claims while it runs. */
    Object key() { return group; }

    int rank() { return group.rank(); }

    int worldSize() { return group.size(); }

    boolean isMain() { return group.rank() == 0; }

    boolean stuck() { return group.stuck(); }

    /** Wall time spent averaging gradients so far; read by the training thread only. */
    private long gradientNanos;

    /** Sums a gradient bucket over the ranks in place (each rank's is already divided), inside an accelerator call. */
    void sumGradients(Buffer bucket, String what) {
        long t0 = System.nanoTime();
        guarded(() -> group.allReduceSum(bucket, what));
        gradientNanos += System.nanoTime() - t0;
    }

    double gradientSeconds() { return gradientNanos / 1e9; }

    /** Overwrites {@code t} with rank 0's value. */
    void broadcastFromMain(Tensor t, String what) {
        Internal.Access a = Internal.access();
        a.enter(kiln);
        try (Lease l = a.lease(t)) {
            broadcastFromMain(l.buffer(), what);
        } finally {
            a.exit(kiln);
        }
    }

    void broadcastFromMain(Buffer b, String what) { guarded(() -> group.broadcast(b, 0, what)); }

    /** Element-wise sums over the ranks, in float64; every rank gets the same bits. */
    double[] sum(double[] values, String what) {
        Internal.Access a = Internal.access();
        double[] out = values.clone();
        a.enter(kiln);
        try (Buffer b = a.upload(kiln, TensorType.of(dev.kiln.core.DType.F64, values.length), MemorySegment.ofArray(values))) {
            guarded(() -> group.allReduceSum(b, what));
            a.download(kiln, b, MemorySegment.ofArray(out));
        } finally {
            a.exit(kiln);
        }
        return out;
    }

    void barrier(String what) {
        Internal.Access a = Internal.access();
        a.enter(kiln);
        try {
            guarded(() -> group.barrier(what));
        } finally {
            a.exit(kiln);
        }
    }

    private static void guarded(Runnable r) {
        try {
            r.run();
        } catch (CollectiveTimeoutException e) {
            throw new ProcessGroupTimeoutException(e.getMessage());
        } catch (CollectiveException e) {
            throw new ProcessGroupException(e.getMessage(), e.getCause());
        }
    }

    @Override public String toString() { return group.toString(); }
}
