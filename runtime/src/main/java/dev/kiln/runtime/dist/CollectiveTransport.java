package dev.kiln.runtime.dist;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Collectives;
import java.time.Duration;
import java.util.Locale;

/**
 * How the ranks of a job exchange tensors, chosen once per process group.
 *
 * <ul>
 *   <li>{@code plugin}: the accelerator's own collectives — MPI in the CPU plugin, NCCL in the
 *       CUDA plugin. MPI needs an MPI launcher ({@code mpirun}, {@code mpiexec}), which forms the
 *       group itself; NCCL gets the id rank 0 made through the rendezvous store.</li>
 *   <li>{@code ring}: {@link RingCollectives}, TCP between the ranks, for launches MPI did not
 *       start (torchrun-style variables, a Kubernetes Job, Spark). Needs nothing installed.</li>
 * </ul>
 *
 * <p>{@code auto} (the default) takes the plugin's collectives for a device that is not the host
 * CPU, and for the CPU when MPI launched the job; everything else gets the ring. The system
 * property {@code kiln.collectives} or the variable {@code KILN_COLLECTIVES} overrides it.
 */
public enum CollectiveTransport {
    AUTO, PLUGIN, RING;

    /** {@code kiln.collectives}, else {@code KILN_COLLECTIVES}, else {@link #AUTO}. */
    public static CollectiveTransport configured() {
        String v = System.getProperty("kiln.collectives", System.getenv("KILN_COLLECTIVES"));
        if (v == null || v.isBlank()) return AUTO;
        try {
            return valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("kiln.collectives / KILN_COLLECTIVES is '" + v + "'; use auto, plugin or ring");
        }
    }

    /** Joins the group's collectives on {@code acc}; every rank calls it at the same point. */
    public GuardedCollectives join(Accelerator acc, RendezvousStore store, Duration timeout) {
        ProcessGroupSpec spec = store.spec();
        CollectiveTransport how = this == AUTO ? choose(acc, spec) : this;
        if (how == PLUGIN && !acc.capabilities().collectives()) {
            throw new UnsupportedOperationException(acc.name() + " has no collectives here (for the CPU plugin: no MPI library loaded); use kiln.collectives=ring");
        }
        Collectives c = how == RING
                ? RingCollectives.join(acc, store, spec.rank(), spec.worldSize(), timeout)
                : acc.collectives(spec.rank(), spec.worldSize(), groupId(acc, store, timeout));
        String name = how == RING ? "ring" : isHost(acc) ? "mpi" : acc.name() + " collectives";
        return new GuardedCollectives(c, store, name, timeout);
    }

    private static CollectiveTransport choose(Accelerator acc, ProcessGroupSpec spec) {
        if (!acc.capabilities().collectives()) return RING;
        if (!isHost(acc)) return PLUGIN;
        boolean mpiLaunch = spec.launcher() == Launcher.OPEN_MPI || spec.launcher() == Launcher.MPICH;
        return mpiLaunch ? PLUGIN : RING;
    }

    private static boolean isHost(Accelerator acc) {
        return acc.devices().isEmpty() || "cpu".equals(acc.devices().getFirst().kind());
    }

    /** Rank 0's {@link Accelerator#newCollectiveGroupId()}, shared through the store under this attempt's namespace. */
    private static byte[] groupId(Accelerator acc, RendezvousStore store, Duration timeout) {
        String key = "kiln/collectives/group-id";
        if (store.spec().rank() == 0) {
            byte[] id = acc.newCollectiveGroupId();
            store.set(key, id);
            return id;
        }
        return store.get(key, timeout);
    }
}
