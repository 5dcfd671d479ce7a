package dev.kiln.runtime.dist;

import java.util.Map;
import java.util.Objects;

/**
 * Where this process stands in a job: its rank among {@code worldSize} processes, its rank among
 * those on the same host, where rank 0 serves the rendezvous store, who launched it, and which
 * restart of the job this is ({@code attempt}, 0 for the first run).
 *
 * <p>{@code masterPort} 0 means "any free port" and is only useful when every rank lives in one
 * JVM (tests): rank 0's store reports the port it bound.
 */
public record ProcessGroupSpec(int rank, int worldSize, int localRank, int localWorldSize,
                               String masterAddr, int masterPort, Launcher launcher, int attempt) {

    /** PyTorch's default, so a job moved from torchrun keeps its firewall rules. */
    public static final int DEFAULT_MASTER_PORT = 29500;

    public ProcessGroupSpec {
        Objects.requireNonNull(masterAddr, "masterAddr");
        Objects.requireNonNull(launcher, "launcher");
        if (worldSize < 1) throw new IllegalArgumentException("world size must be >= 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize)
            throw new IllegalArgumentException("rank " + rank + " is outside [0, " + worldSize + "), the world size");
        if (localWorldSize < 1 || localWorldSize > worldSize)
            throw new IllegalArgumentException("local world size " + localWorldSize + " is outside [1, " + worldSize + "], the world size");
        if (localRank < 0 || localRank >= localWorldSize)
            throw new IllegalArgumentException("local rank " + localRank + " is outside [0, " + localWorldSize + "), the local world size");
        if (masterAddr.isBlank()) throw new IllegalArgumentException("master address is blank");
        if (masterPort < 0 || masterPort > 65535)
            throw new IllegalArgumentException("master port " + masterPort + " is outside [0, 65535]");
        if (attempt < 0) throw new IllegalArgumentException("attempt must be >= 0, got " + attempt);
    }

    /** A process group given in code; nothing says which ranks share a host, so each is local rank 0 of 1. */
    public static ProcessGroupSpec of(int rank, int worldSize, String masterAddr, int masterPort) {
        return new ProcessGroupSpec(rank, worldSize, 0, 1, masterAddr, masterPort, Launcher.EXPLICIT, 0);
    }

    /** The single process of a job nobody launched: rank 0 of 1. */
    public static ProcessGroupSpec single() {
        return new ProcessGroupSpec(0, 1, 0, 1, "127.0.0.1", DEFAULT_MASTER_PORT, Launcher.NONE, 0);
    }

    /** Reads {@code env} (normally {@link System#getenv()}); see {@link LaunchEnvironment}. */
    public static ProcessGroupSpec fromEnvironment(Map<String, String> env) { return LaunchEnvironment.parse(env); }

    public boolean isMain() { return rank == 0; }
}
