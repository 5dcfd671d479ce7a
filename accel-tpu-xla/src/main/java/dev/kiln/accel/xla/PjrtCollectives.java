package dev.kiln.accel.xla;

import dev.kiln.accel.xla.hlo.StableHloCollectives;
import dev.kiln.accel.xla.pjrt.CompileOptions;
import dev.kiln.accel.xla.pjrt.PjrtBuffer;
import dev.kiln.accel.xla.pjrt.PjrtClient;
import dev.kiln.accel.xla.pjrt.PjrtExecutable;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import dev.kiln.spi.ir.TensorType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Collectives over the devices of one PJRT client, rank i on device i, each rank a thread of this
 * process: every collective is a {@link StableHloCollectives} module compiled once for the group
 * ({@code num_replicas = size}) and launched by each rank on its own device, and XLA's runtime
 * meets the launches (NCCL inside XLA on GPUs, the ICI on TPUs).
 *
 * <p>This is the in-process shape PJRT serves directly. Ranks that are processes, one device each,
 * would need a multi-process client (PJRT's key-value callbacks carrying Kiln's rendezvous store),
 * which Kiln does not create yet; such jobs reduce on the host (MPI or Kiln's ring) instead.
 */
final class PjrtCollectives implements Collectives {
    /** The modules of one group, shared by its ranks: compiled by whichever rank asks first. */
    private static final Map<String, Map<String, PjrtExecutable>> GROUPS = new ConcurrentHashMap<>();

    private final PjrtAccelerator accelerator;
    private final PjrtClient client;
    private final int rank, size;
    private final String group;
    private final Map<String, PjrtExecutable> modules;
    private volatile boolean closed, aborted;

    PjrtCollectives(PjrtAccelerator accelerator, PjrtClient client, int rank, int size, String group) {
        this.accelerator = accelerator;
        this.client = client;
        this.rank = rank;
        this.size = size;
        this.group = group;
        this.modules = GROUPS.computeIfAbsent(group, g -> new ConcurrentHashMap<>());
    }

    @Override public int rank() { return rank; }

    @Override public int size() { return size; }

    @Override public void allReduce(Buffer in, Buffer out) {
        same("allReduce", in, out);
        run("all_reduce " + in.type(), t -> StableHloCollectives.allReduce(in.type(), size, false), in, out);
    }

    @Override public void allReduceAverage(Buffer in, Buffer out) {
        same("allReduceAverage", in, out);
        run("all_reduce_average " + in.type(), t -> StableHloCollectives.allReduce(in.type(), size, true), in, out);
    }

    @Override public void broadcast(Buffer in, Buffer out, int root) {
        same("broadcast", in, out);
        if (root < 0 || root >= size) throw new IllegalArgumentException("xla broadcast: root " + root + " is not a rank of a group of " + size);
        run("broadcast " + root + " " + in.type(), t -> StableHloCollectives.broadcast(in.type(), size, root), in, out);
    }

    @Override public void allGather(Buffer in, Buffer out) {
        run("all_gather " + in.type() + " " + out.type(), t -> StableHloCollectives.allGather(in.type(), out.type(), size), in, out);
    }

    @Override public void reduceScatter(Buffer in, Buffer out) {
        run("reduce_scatter " + in.type() + " " + out.type(), t -> StableHloCollectives.reduceScatter(in.type(), out.type(), size), in, out);
    }

    @Override public void barrier() {
        Buffer token = accelerator.allocate(TensorType.of(dev.kiln.core.DType.I32));
        try {
            run("barrier", t -> StableHloCollectives.barrier(size), token, token);
        } finally {
            token.close();
        }
    }

    /** Nothing to abort from the host: XLA owns the launches. Later calls fail. */
    @Override public void abort() { aborted = true; }

    /** Rank 0 releases the group's executables (the client would at its own close). */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        if (rank == 0) {
            Map<String, PjrtExecutable> m = GROUPS.remove(group);
            if (m != null) m.values().forEach(PjrtExecutable::close);
        }
    }

    private void run(String key, Function<String, String> module, Buffer in, Buffer out) {
        if (closed || aborted)
            throw new IllegalStateException("xla collectives (rank " + rank + " of " + size + ") are " + (aborted ? "aborted" : "closed"));
        PjrtExecutable e = modules.computeIfAbsent(key, k -> client.compile(module.apply(k), CompileOptions.replicas(size)));
        List<PjrtBuffer> result = e.executeReplica(accelerator.deviceOf(in), List.of(accelerator.pjrtOf(in, "collectives")));
        accelerator.adopt(out, result.getFirst(), "collectives");
    }

    private static void same(String op, Buffer in, Buffer out) {
        if (!in.type().equals(out.type()))
            throw new IllegalArgumentException("xla " + op + ": in is " + in.type() + " and out is " + out.type() + "; they must be one type");
    }
}
