package dev.kiln.accel.cuda;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * What one compile is building: the steps in order, the argument blocks they point into (an
 * arena living as long as the executable), and the static device memory the executable owns.
 */
final class CudaKernels {
    private final CudaModules modules;
    private final CudaMemoryPool pool;
    private final int multiprocessors;
    private final Arena arena = Arena.ofShared();
    private final List<Step> steps = new ArrayList<>();
    private final List<String> labels = new ArrayList<>();
    private String label = "";
    private final List<Long> owned = new ArrayList<>();
    private final java.util.Map<String, Integer> routes = new java.util.TreeMap<>();

    CudaKernels(CudaModules modules, CudaMemoryPool pool, int multiprocessors) {
        this.modules = modules;
        this.pool = pool;
        this.multiprocessors = multiprocessors;
    }

    int multiprocessors() { return multiprocessors; }

    /** A launch of the kernel {@code k} in {@code source}, compiled (or found in the cache) now. */
    KernelLaunch launch(String name, String source) { return new KernelLaunch(name, modules.kernel(name, source)); }

    void add(KernelLaunch l) { add((Step) l.seal(arena)); }

    void add(Step s) {
        steps.add(s);
        labels.add(label);
    }

    /** Names the IR node the following steps belong to, for {@link StepProfiler}. */
    void label(String l) { label = l; }

    List<String> labels() { return labels; }

    /**
     * Records which implementation a node got ("conv2d forward f32: cuDNN", "attention bf16: flash
     * tensor cores"), so a fallback is visible to tests ({@link CudaGraphExecutable#routes}) and
     * in the debug log, not only in the step time.
     */
    void route(String how) { routes.merge(how, 1, Integer::sum); }

    /** How many nodes took each route. */
    java.util.Map<String, Integer> routes() { return java.util.Collections.unmodifiableMap(routes); }

    /** Device memory owned by the executable, freed when it closes. */
    long allocate(long bytes) {
        long a = pool.allocate(bytes);
        owned.add(a);
        return a;
    }

    List<Step> steps() { return steps; }

    /** Frees the static memory and the argument blocks. */
    void release() {
        for (long a : owned) pool.free(a);
        owned.clear();
        arena.close();
    }
}
