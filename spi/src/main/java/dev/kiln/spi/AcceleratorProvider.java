package dev.kiln.spi;

/**
 * The entry point of a plugin, found by {@link java.util.ServiceLoader}. Register it both in
 * {@code META-INF/services/dev.kiln.spi.AcceleratorProvider} and with {@code provides} in
 * {@code module-info.java}. Construction must be cheap and must not touch native code; that
 * belongs in {@link #probe()} and {@link #open}.
 */
public interface AcceleratorProvider {
    /** The SPI version this contract describes; the runtime refuses providers built for another. */
    int SPI_VERSION = 1;

    /** Stable lower-case name users select the provider by: {@code onednn}, {@code cuda}. */
    String name();

    /** Higher wins when several are available and the user did not choose. */
    int priority();

    /** Whether the provider can run on this machine and why; never throws. */
    Availability probe();

    /** Opens the accelerator; the caller closes it. */
    Accelerator open(AcceleratorConfig config);

    default int spiVersion() { return SPI_VERSION; }
}
