package dev.kiln.api.dist;

import dev.kiln.api.internal.Internal;
import dev.kiln.runtime.dist.CollectiveException;
import dev.kiln.runtime.dist.CollectiveTransport;
import dev.kiln.runtime.dist.GuardedCollectives;
import dev.kiln.runtime.dist.ProcessGroupSpec;
import dev.kiln.runtime.dist.RendezvousException;
import dev.kiln.runtime.dist.RendezvousStore;
import dev.kiln.runtime.dist.RendezvousTimeoutException;
import dev.kiln.runtime.dist.StoreOptions;
import dev.kiln.spi.Accelerator;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The processes of one distributed job, as this process sees them: its rank, the world size,
 * its rank on its host, and a rendezvous through which they meet. Rank 0 hosts the rendezvous at
 * {@code masterAddr:masterPort}; the others connect to it, waiting for rank 0 if it starts later.
 *
 * <pre>{@code
 * try (ProcessGroup group = ProcessGroup.fromEnvironment()) {  // torchrun, mpirun, srun or none
 *     DataLoader loader = DataLoader.builder(data, 64).distributed(group).build();
 *     ...
 *     group.barrier();
 * }
 * }</pre>
 *
 * A group of one (no launcher) opens no socket. Barriers are numbered: every rank must call
 * {@link #barrier()} the same number of times, as with any collective. Closing rank 0 ends the
 * rendezvous for everyone, so other ranks' pending barriers fail rather than hang.
 * {@code barrier} calls take turns; {@link #close()} may be called from any thread.
 */
public final class ProcessGroup implements AutoCloseable {
    private final ProcessGroupSpec spec;
    private final RendezvousStore store; // null for a group of one
    private final Duration timeout, collectiveTimeout;
    private long barriers;
    private volatile boolean closed;

    static {
        Internal.installGroups(ProcessGroup::joinCollectives);
    }

    private ProcessGroup(ProcessGroupSpec spec, RendezvousStore store, Duration timeout, Duration collectiveTimeout) {
        this.spec = spec;
        this.store = store;
        this.timeout = timeout;
        this.collectiveTimeout = collectiveTimeout;
    }

    /** How long a collective may wait for the other ranks before every live rank fails (10 min unless set). */
    public Duration collectiveTimeout() { return collectiveTimeout; }

    /** Joins the accelerator's collectives for this group (a Kiln opened with it does this once). */
    private GuardedCollectives joinCollectives(Accelerator acc) {
        if (closed) throw new IllegalStateException("this ProcessGroup is closed");
        try {
            return CollectiveTransport.configured().join(acc, store, collectiveTimeout);
        } catch (CollectiveException | RendezvousException e) {
            throw new ProcessGroupException("rank " + rank() + " of " + worldSize() + ": cannot join the collectives on " + acc.name() + ": " + e.getMessage(), e);
        }
    }

    /** Reads the launcher's variables ({@code RANK}..., {@code OMPI_COMM_WORLD_*}, {@code PMI_*}, {@code SLURM_*}) and meets the other ranks. */
    public static ProcessGroup fromEnvironment() { return builder().build(); }

    /** A group given in code; port 0 lets rank 0 take a free port (see {@link #masterPort()}), for ranks in one JVM. */
    public static ProcessGroup of(int rank, int worldSize, String masterAddr, int masterPort) {
        return builder().explicit(rank, worldSize, masterAddr, masterPort).build();
    }

    public static Builder builder() { return new Builder(); }

    public int rank() { return spec.rank(); }

    public int worldSize() { return spec.worldSize(); }

    /** Rank among the processes on this host: which GPU to take. */
    public int localRank() { return spec.localRank(); }

    public int localWorldSize() { return spec.localWorldSize(); }

    /** Rank 0: the one that writes checkpoints and logs. */
    public boolean isMain() { return spec.isMain(); }

    public String masterAddr() { return spec.masterAddr(); }

    /** The rendezvous port; on rank 0 the one it bound, which differs from the requested when that was 0. */
    public int masterPort() { return store != null ? store.port() : spec.masterPort(); }

    /** Which launcher's variables were read: torchrun, open_mpi, mpich, slurm, explicit or none. */
    public String launcher() { return spec.launcher().name().toLowerCase(Locale.ROOT); }

    /** Which restart of the job this is (torchrun's and Slurm's restart count), 0 for the first run. */
    public int attempt() { return spec.attempt(); }

    /** Waits until every rank has called its matching barrier, up to the group's timeout. */
    public void barrier() { barrier(timeout); }

    public synchronized void barrier(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (closed) throw new IllegalStateException("this ProcessGroup is closed");
        long n = barriers++;
        if (store == null) return;
        try {
            store.barrier("pg-" + n, timeout);
        } catch (RendezvousTimeoutException e) {
            throw new ProcessGroupTimeoutException("rank " + rank() + " of " + worldSize() + ": " + e.getMessage());
        } catch (RendezvousException e) {
            throw new ProcessGroupException("rank " + rank() + " of " + worldSize() + ": " + e.getMessage(), e.getCause());
        }
    }

    @Override public void close() {
        closed = true;
        if (store != null) store.close();
    }

    @Override public String toString() {
        return "ProcessGroup[rank " + rank() + " of " + worldSize() + ", local " + localRank() + " of " + localWorldSize()
                + ", " + launcher() + ", rendezvous " + masterAddr() + ":" + masterPort() + "]";
    }

    /** How to form a {@link ProcessGroup}; reads {@link System#getenv()} unless told otherwise. */
    public static final class Builder {
        private Map<String, String> environment;
        private ProcessGroupSpec explicit;
        private Duration timeout = Duration.ofMinutes(30);
        private Duration connectTimeout = Duration.ofMinutes(5);
        private Duration collectiveTimeout = Duration.ofMinutes(10);

        private Builder() {}

        /** Reads these variables instead of the process's environment. */
        public Builder environment(Map<String, String> env) {
            this.environment = Map.copyOf(env);
            this.explicit = null;
            return this;
        }

        public Builder explicit(int rank, int worldSize, String masterAddr, int masterPort) {
            this.explicit = ProcessGroupSpec.of(rank, worldSize, masterAddr, masterPort);
            this.environment = null;
            return this;
        }

        /** Default timeout of {@link ProcessGroup#barrier()} (30 min, PyTorch's for non-NCCL groups). */
        public Builder timeout(Duration t) { this.timeout = positive(t, "timeout"); return this; }

        /**
         * How long a collective (a gradient all-reduce, a broadcast) waits for the other ranks
         * before every rank that is still alive fails with {@link ProcessGroupTimeoutException}
         * naming the ranks that did not arrive: 10 minutes, NCCL's default in PyTorch.
         */
        public Builder collectiveTimeout(Duration t) { this.collectiveTimeout = positive(t, "collectiveTimeout"); return this; }

        /** How long a rank keeps trying to reach rank 0's rendezvous (5 min). */
        public Builder connectTimeout(Duration t) { this.connectTimeout = positive(t, "connectTimeout"); return this; }

        /** Meets the other ranks: returns once this rank is connected to the rendezvous. */
        public ProcessGroup build() {
            ProcessGroupSpec spec = explicit != null ? explicit
                    : ProcessGroupSpec.fromEnvironment(environment != null ? environment : System.getenv());
            if (spec.worldSize() == 1) return new ProcessGroup(spec, null, timeout, collectiveTimeout);
            StoreOptions options = StoreOptions.builder().connectTimeout(connectTimeout).build();
            try {
                return new ProcessGroup(spec, RendezvousStore.open(spec, options), timeout, collectiveTimeout);
            } catch (RendezvousException e) {
                throw new ProcessGroupException("rank " + spec.rank() + " of " + spec.worldSize() + ": " + e.getMessage(), e.getCause());
            }
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(name + " must be positive, got " + d);
            return d;
        }
    }
}
