package dev.kiln.runtime.dist;

import java.util.Map;

/**
 * Reads a {@link ProcessGroupSpec} from the variables a launcher sets.
 *
 * <p>Precedence, when several launchers' variables are present: torchrun's ({@code RANK} and
 * {@code WORLD_SIZE}), then Open MPI's, then MPICH's, then Slurm's. The order follows nesting:
 * a user who exports {@code RANK} meant it; {@code mpirun} inside a Slurm allocation inherits the
 * batch step's {@code SLURM_PROCID} (0 in every rank) while its own variables are per rank.
 *
 * <p>The rendezvous address is {@code MASTER_ADDR}/{@code MASTER_PORT} for every launcher
 * (torchrun requires both when it runs more than one process). Without {@code MASTER_ADDR}, a job
 * whose ranks all share this host uses 127.0.0.1; a Slurm job uses the first host of
 * {@code SLURM_JOB_NODELIST} when that is a plain host name; anything else is an error, because a
 * guessed address would make ranks wait for a store that is not there. The port defaults to 29500.
 */
public final class LaunchEnvironment {
    private LaunchEnvironment() {}

    public static ProcessGroupSpec parse(Map<String, String> env) {
        Variables v = new Variables(env);
        if (v.has("RANK") || v.has("WORLD_SIZE")) return torchrun(v);
        if (v.has("OMPI_COMM_WORLD_RANK") || v.has("OMPI_COMM_WORLD_SIZE")) return openMpi(v);
        if (v.has("PMI_RANK") || v.has("PMI_SIZE")) return mpich(v);
        if (v.has("SLURM_PROCID")) return slurm(v);
        return ProcessGroupSpec.single();
    }

    private static ProcessGroupSpec torchrun(Variables v) {
        int world = v.required("WORLD_SIZE", 1, Integer.MAX_VALUE);
        int rank = v.rank("RANK", "WORLD_SIZE", world);
        // A user following PyTorch's env:// rules sets RANK and WORLD_SIZE only: one process per host.
        int localWorld = v.has("LOCAL_WORLD_SIZE") || v.has("LOCAL_RANK") ? v.required("LOCAL_WORLD_SIZE", 1, world) : 1;
        int localRank = v.has("LOCAL_WORLD_SIZE") || v.has("LOCAL_RANK") ? v.rank("LOCAL_RANK", "LOCAL_WORLD_SIZE", localWorld) : 0;
        String addr = world == 1 ? v.text("MASTER_ADDR", "127.0.0.1") : v.requiredText("MASTER_ADDR");
        int port = world == 1 ? v.optional("MASTER_PORT", 1, 65535, ProcessGroupSpec.DEFAULT_MASTER_PORT) : v.required("MASTER_PORT", 1, 65535);
        int attempt = v.optional("TORCHELASTIC_RESTART_COUNT", 0, Integer.MAX_VALUE, 0);
        return new ProcessGroupSpec(rank, world, localRank, localWorld, addr, port, Launcher.TORCHRUN, attempt);
    }

    private static ProcessGroupSpec openMpi(Variables v) {
        int world = v.required("OMPI_COMM_WORLD_SIZE", 1, Integer.MAX_VALUE);
        int rank = v.rank("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", world);
        int localWorld = v.required("OMPI_COMM_WORLD_LOCAL_SIZE", 1, world);
        int localRank = v.rank("OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE", localWorld);
        return spec(v, rank, world, localRank, localWorld, Launcher.OPEN_MPI, 0, null);
    }

    private static ProcessGroupSpec mpich(Variables v) {
        int world = v.required("PMI_SIZE", 1, Integer.MAX_VALUE);
        int rank = v.rank("PMI_RANK", "PMI_SIZE", world);
        // Hydra exports MPI_LOCALRANKID with MPI_LOCALNRANKS; without them nothing says which ranks
        // share a host, so each counts as alone on its host (and a job of several needs MASTER_ADDR).
        boolean local = v.has("MPI_LOCALRANKID") || v.has("MPI_LOCALNRANKS");
        int localWorld = local ? v.required("MPI_LOCALNRANKS", 1, world) : 1;
        int localRank = local ? v.rank("MPI_LOCALRANKID", "MPI_LOCALNRANKS", localWorld) : 0;
        return spec(v, rank, world, localRank, localWorld, Launcher.MPICH, 0, null);
    }

    private static ProcessGroupSpec slurm(Variables v) {
        int world = v.required("SLURM_NTASKS", 1, Integer.MAX_VALUE);
        int rank = v.rank("SLURM_PROCID", "SLURM_NTASKS", world);
        int localWorld = slurmTasksOnThisNode(v, world);
        int localRank = v.rank("SLURM_LOCALID", "tasks on this node", localWorld);
        int attempt = v.optional("SLURM_RESTART_COUNT", 0, Integer.MAX_VALUE, 0);
        String fallback = v.has("SLURM_JOB_NODELIST") ? SlurmNodeList.firstPlainHost(v.requiredText("SLURM_JOB_NODELIST")) : null;
        return spec(v, rank, world, localRank, localWorld, Launcher.SLURM, attempt, fallback);
    }

    private static int slurmTasksOnThisNode(Variables v, int world) {
        if (v.has("SLURM_TASKS_PER_NODE") && v.has("SLURM_NODEID")) {
            int node = v.required("SLURM_NODEID", 0, Integer.MAX_VALUE);
            int n = SlurmNodeList.tasksOnNode(v.requiredText("SLURM_TASKS_PER_NODE"), node);
            if (n < 1 || n > world)
                throw new IllegalArgumentException("SLURM_TASKS_PER_NODE=" + v.requiredText("SLURM_TASKS_PER_NODE")
                        + " gives node " + node + " " + n + " tasks, outside [1, " + world + "] (SLURM_NTASKS)");
            return n;
        }
        if (v.has("SLURM_NTASKS_PER_NODE")) return v.required("SLURM_NTASKS_PER_NODE", 1, world);
        if (world == 1) return 1;
        throw new IllegalArgumentException("Slurm job of " + world + " tasks without SLURM_TASKS_PER_NODE and SLURM_NODEID"
                + " or SLURM_NTASKS_PER_NODE: the number of tasks on this node is unknown");
    }

    /** MPI and Slurm ranks: the rendezvous address is not part of the launcher's contract. */
    private static ProcessGroupSpec spec(Variables v, int rank, int world, int localRank, int localWorld,
                                         Launcher launcher, int attempt, String fallbackAddr) {
        String addr;
        if (v.has("MASTER_ADDR")) addr = v.requiredText("MASTER_ADDR");
        else if (localWorld == world) addr = "127.0.0.1";
        else if (fallbackAddr != null) addr = fallbackAddr;
        else throw new IllegalArgumentException(launcher + " job of " + world + " ranks over several hosts ("
                + localWorld + " on this one) needs MASTER_ADDR: the host of rank 0, where the rendezvous store listens"
                + (launcher == Launcher.SLURM ? "; SLURM_JOB_NODELIST is used only when it is a plain host name" : ""));
        int port = v.optional("MASTER_PORT", 1, 65535, ProcessGroupSpec.DEFAULT_MASTER_PORT);
        return new ProcessGroupSpec(rank, world, localRank, localWorld, addr, port, launcher, attempt);
    }

    /** Every read names the variable and its value when it is wrong. */
    private record Variables(Map<String, String> env) {
        boolean has(String name) {
            String s = env.get(name);
            return s != null && !s.isBlank();
        }

        String requiredText(String name) {
            if (!has(name)) throw new IllegalArgumentException(name + " is not set");
            return env.get(name).strip();
        }

        String text(String name, String otherwise) { return has(name) ? requiredText(name) : otherwise; }

        int required(String name, int min, int max) { return checked(name, min, max, ""); }

        int optional(String name, int min, int max, int otherwise) { return has(name) ? required(name, min, max) : otherwise; }

        /** A rank below the size read from {@code sizeName}, which the message names too. */
        int rank(String name, String sizeName, int size) { return checked(name, 0, size - 1, ", " + sizeName + "=" + size); }

        private int checked(String name, int min, int max, String context) {
            String s = requiredText(name);
            long x;
            try {
                x = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + "=" + s + " is not an integer");
            }
            if (x < min || x > max)
                throw new IllegalArgumentException(name + "=" + s + " is outside [" + min + ", " + max + "]" + context);
            return (int) x;
        }
    }
}
