package dev.kiln.accel.onednn;

import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * MPI's once-per-process state. MPI is initialised at most once per process and never again after
 * MPI_Finalize, so this is a singleton: the first {@link #get()} initialises it unless the host
 * application already did (then Kiln uses it and leaves finalising to the application). When Kiln
 * initialised MPI it finalises it from a shutdown hook. The standard asks for MPI_Finalize on the
 * thread that initialised MPI; Open MPI 4.1 and MPICH 4.0 accept any thread at MPI_THREAD_MULTIPLE,
 * which is what Kiln asks for and what both of Debian's builds provide.
 *
 * <p>Kiln requires at least MPI_THREAD_SERIALIZED and serialises its own calls with {@link #lock()},
 * so trainers may call collectives from any thread.
 */
final class MpiProcess {
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static MpiProcess instance;

    private final MpiLibrary library;
    private final MpiBinding binding;
    private final int threadLevel;
    private final boolean initialisedByKiln;

    private final List<String> restoredAtInit;

    private MpiProcess(MpiLibrary library, MpiBinding binding, int threadLevel, boolean initialisedByKiln, List<String> restoredAtInit) {
        this.library = library;
        this.binding = binding;
        this.threadLevel = threadLevel;
        this.initialisedByKiln = initialisedByKiln;
        this.restoredAtInit = restoredAtInit;
    }

    /** The process's MPI, initialised on first use. */
    static MpiProcess get() {
        LOCK.lock();
        try {
            if (instance == null) instance = start(MpiLibrary.require());
            return instance;
        } finally {
            LOCK.unlock();
        }
    }

    private static MpiProcess start(MpiLibrary library) {
        MpiBinding binding = new MpiBinding(library, MpiHandles.of(library));
        if (binding.finalized()) throw new IllegalStateException("MPI was already finalised in this process; it cannot be initialised again");
        boolean ours = !binding.initialized();
        // Neither Debian's Open MPI nor its MPICH replaces a JVM signal handler in MPI_Init (MPICH's UCX
        // does so at load, see MpiLibrary), but a transport loaded only then could: put any back.
        JvmSignals.Result<Integer> init = ours ? JvmSignals.preserving(() -> binding.initThread(MpiBinding.THREAD_MULTIPLE)) : null;
        int level = ours ? init.value() : binding.queryThread();
        MpiProcess process = new MpiProcess(library, binding, level, ours, ours ? init.restored() : List.of());
        if (ours) Runtime.getRuntime().addShutdownHook(new Thread(process::finalizeAtExit, "kiln-mpi-finalize"));
        if (level < MpiBinding.THREAD_SERIALIZED) {
            throw new IllegalStateException(library.describe() + " provides thread level " + level
                    + "; Kiln needs MPI_THREAD_SERIALIZED (2) or MPI_THREAD_MULTIPLE (3)"
                    + (ours ? "" : " (the application initialised MPI: ask for MPI_THREAD_MULTIPLE in MPI_Init_thread)"));
        }
        // Errors of Kiln's world queries come back instead of aborting; an application's own world keeps its handler.
        if (ours) binding.returnErrors(binding.handles().commWorld());
        return process;
    }

    /**
     * Set once a collective was given up on while blocked in MPI: finalising would wait for it (and
     * for the peers) forever, so the process exits without MPI_Finalize, as after an MPI_Abort.
     */
    private volatile boolean abandoned;

    void abandon() { abandoned = true; }

    boolean abandoned() { return abandoned; }

    private void finalizeAtExit() {
        if (abandoned) return;
        LOCK.lock();
        try {
            if (!binding.finalized()) binding.finalizeMpi();
        } catch (RuntimeException e) {
            System.err.println("kiln: " + e.getMessage());
        } finally {
            LOCK.unlock();
        }
    }

    /** Held around every MPI call Kiln makes. */
    ReentrantLock lock() { return LOCK; }

    MpiLibrary library() { return library; }

    MpiBinding binding() { return binding; }

    int threadLevel() { return threadLevel; }

    boolean initialisedByKiln() { return initialisedByKiln; }

    /** The JVM signal handlers MPI_Init replaced and that were put back (empty when the application initialised MPI). */
    List<String> restoredAtInit() { return restoredAtInit; }

    int worldRank() { return binding.rank(binding.handles().commWorld()); }

    int worldSize() { return binding.size(binding.handles().commWorld()); }
}
