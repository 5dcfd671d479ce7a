package dev.kiln.spi;

/**
 * The entry point of a plugin, found by {@link java.util.ServiceLoader}. Register it both in
 * {@code META-INF/services/dev.kiln.spi.AcceleratorProvider} and with {@code provides} in
 * {@code module-info.java}. Construction must be cheap and must not touch native code; that
 * belongs in {@link #probe()} and {@link #open}.
 */
public interface AcceleratorProvider {
    /**
     * The version of this contract. The runtime refuses a provider whose {@link #spiVersion()}
     * differs. 2: {@code spiVersion()} became abstract; a plugin built against version 1 inherited
     * it and now throws {@code AbstractMethodError} when asked, which the runtime reports as version 1.
     */
    int SPI_VERSION = 2;

    /** Stable lower-case name users select the provider by: {@code onednn}, {@code cuda}. */
    String name();

    /** Higher wins when several are available and the user did not choose. */
    int priority();

    /** Whether the provider can run on this machine and why; never throws. */
    Availability probe();

    /** Opens the accelerator; the caller closes it. */
    Accelerator open(AcceleratorConfig config);

    /**
     * The SPI version this plugin was compiled against. Implement it as
     * {@code @Override public int spiVersion() { return SPI_VERSION; }}: {@code SPI_VERSION} is a
     * compile-time constant ({@code static final int} initialised with a literal), which javac
     * copies into the plugin's own class file instead of reading the field at run time (JLS
     * 13.1), so the method keeps returning the version the plugin was built against when it
     * is loaded by a runtime with a different SPI. A default method here would have been compiled
     * into the SPI and would report whatever version the runtime has, so the check could never
     * fail; that is why this method has no default.
     */
    int spiVersion();
}
