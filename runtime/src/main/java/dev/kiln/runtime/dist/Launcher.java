package dev.kiln.runtime.dist;

/** Which launcher's environment variables a {@link ProcessGroupSpec} was read from. */
public enum Launcher {
    /** {@code RANK}, {@code WORLD_SIZE}, ... as torchrun (or a user following PyTorch's env:// rules) sets them. */
    TORCHRUN,
    /** Open MPI's {@code mpirun}: {@code OMPI_COMM_WORLD_*}. */
    OPEN_MPI,
    /** MPICH's Hydra: {@code PMI_RANK}, {@code PMI_SIZE}. */
    MPICH,
    /** Slurm's {@code srun}: {@code SLURM_PROCID}, {@code SLURM_NTASKS}, {@code SLURM_LOCALID}. */
    SLURM,
    /** Given in code, not read from the environment. */
    EXPLICIT,
    /** No launcher found: rank 0 of 1. */
    NONE
}
