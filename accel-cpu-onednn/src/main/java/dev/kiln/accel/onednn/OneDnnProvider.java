package dev.kiln.accel.onednn;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/** Finds oneDNN on the CPU. Constructing it is free; the native library loads in {@link #probe()} or {@link #open}. */
public final class OneDnnProvider implements AcceleratorProvider {
    public OneDnnProvider() {}

    @Override public String name() { return "onednn"; }

    /** The SPI this plugin was compiled against: javac inlines the constant here, see the interface. */
    @Override public int spiVersion() { return SPI_VERSION; }

    @Override public int priority() { return 100; }

    @Override public Availability probe() {
        searchMpiMeanwhile();
        try {
            OneDnnNative.load();
            return Availability.available("oneDNN " + OneDnnNative.version() + ", " + OneDnnNative.defaultThreads()
                    + " threads, " + OneDnnNative.effectiveIsa() + "; " + OptimLoops.description() + "; " + MpiLibrary.describeProcess());
        } catch (Throwable t) {
            // A missing native library surfaces as a linkage error or an initializer failure; both mean "not here".
            Throwable cause = t instanceof ExceptionInInitializerError && t.getCause() != null ? t.getCause() : t;
            return Availability.unavailable("oneDNN native library did not load: " + cause);
        }
    }

    @Override public Accelerator open(AcceleratorConfig config) { return new OneDnnAccelerator(config); }

    private static final java.util.concurrent.atomic.AtomicBoolean MPI_SEARCH_STARTED = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Looks for an MPI library on another thread, once per process, while this one loads oneDNN: both are dlopen
     * calls of ~0.1-0.3 s, and the probe's description needs both. Whoever asks for the result
     * first waits for the search (the JVM holds callers until its lazy holder is initialised); a
     * failure is left for that caller to meet, with its message.
     */
    private static void searchMpiMeanwhile() {
        Background.once(MPI_SEARCH_STARTED, "kiln-onednn-mpi-search", () -> {
            try {
                MpiLibrary.process();
            } catch (Throwable ignored) {
                // The caller's own call reports it.
            }
        });
    }
}
