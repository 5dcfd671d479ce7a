package dev.kiln.accel.onednn;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * The element loops of the fused optimizer updates, over elements {@code from} to {@code to} of
 * the {@link JavaOptim} kernels' inputs and outputs. Two implementations compute the same bits:
 * {@link VectorOptim} with the Vector API, and {@link ScalarOptim}.
 *
 * <p>The Vector API is an incubator module ({@code jdk.incubator.vector}) that a JVM resolves
 * only when asked ({@code --add-modules}); a host application that does not ask must still
 * train, so nothing outside {@code VectorOptim} names a Vector API type and {@code VectorOptim}
 * is loaded only after the module is known to be readable. Without it a class that merely
 * mentioned {@code FloatVector} would fail with {@code NoClassDefFoundError} at the first step.
 */
interface OptimLoops {
    /** Set to {@code false} to run the scalar loops even where the Vector API is present (for tests and comparisons). */
    String PROPERTY = "kiln.onednn.vector";

    String VECTOR_MODULE = "jdk.incubator.vector";

    String NOT_RESOLVED = "not resolved";

    void adam(MemorySegment[] in, MemorySegment[] out, long from, long to,
              float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float c2, float eps);

    void sgd(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov);

    /** The loops this JVM runs, chosen once. */
    static OptimLoops chosen() { return Choice.CHOSEN.loops; }

    /**
     * Starts compiling the Adam loop now, on a daemon thread, rather than at the first update: it
     * takes ~0.4 s, during which the updates run the scalar loop (see {@link WarmingLoops}).
     */
    static void prewarmAdam() {
        if (Choice.CHOSEN.loops instanceof WarmingLoops w) w.prewarmAdam();
    }

    /** Whether the Vector API loops were chosen. */
    static boolean vector() { return Choice.CHOSEN.loops instanceof WarmingLoops; }

    /** Which loops run and why, for the provider's availability line and the device description. */
    static String description() { return Choice.CHOSEN.description; }

    /** Whether the Vector API can be used from this plugin's module, and if not, why not; empty when it can. */
    static Optional<String> vectorApiMissing() {
        Module self = OptimLoops.class.getModule();
        // A plugin loaded into a child layer sees that layer's modules; on the class path the boot layer is all there is.
        ModuleLayer layer = self.getLayer() != null ? self.getLayer() : ModuleLayer.boot();
        Optional<Module> vector = layer.findModule(VECTOR_MODULE);
        if (vector.isEmpty()) return Optional.of(NOT_RESOLVED);
        // requires static: resolved by someone else's --add-modules, but read only if this module's configuration says so.
        if (!self.canRead(vector.get())) return Optional.of("resolved but not read by " + self.getName());
        return Optional.empty();
    }

    /** Lazy holder, so that merely describing the interface decides nothing. */
    final class Choice {
        static final Choice CHOSEN = choose();

        final OptimLoops loops;
        final String description;

        private Choice(OptimLoops loops, String description) {
            this.loops = loops;
            this.description = description;
        }

        private static Choice choose() {
            if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "").strip())) {
                return new Choice(ScalarOptim.LOOPS, "optimizer loops scalar (-D" + PROPERTY + "=false)");
            }
            Optional<String> missing = vectorApiMissing();
            if (missing.isPresent()) {
                return new Choice(ScalarOptim.LOOPS, missing.get().equals(NOT_RESOLVED)
                        ? "Vector API absent: optimizer loops scalar; add --add-modules " + VECTOR_MODULE + " for the vector path"
                        : "Vector API " + missing.get() + ": optimizer loops scalar");
            }
            try {
                OptimLoops vector = VectorOptim.LOOPS;
                return new Choice(new WarmingLoops(vector, ScalarOptim.LOOPS),
                        "optimizer loops Vector API (" + VectorOptim.describeSpecies() + "), scalar until the JIT has compiled them");
            } catch (LinkageError | RuntimeException e) {
                return new Choice(ScalarOptim.LOOPS, "Vector API failed to initialise (" + e + "): optimizer loops scalar");
            }
        }
    }
}
