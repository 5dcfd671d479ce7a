package org.example.kiln.vendor;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/**
 * The plugin's entry point, found by ServiceLoader (module-info's {@code provides} and
 * {@code META-INF/services}). Cheap to construct and touching no native code: a real plugin
 * looks for its driver and device in {@link #probe()} and says why not when it finds none.
 */
public final class VendorProvider implements AcceleratorProvider {
    @Override public String name() { return "vendor"; }

    /** Below onednn (100): an application picks this plugin by name until it is faster. */
    @Override public int priority() { return 10; }

    /** A compile-time constant, so the class file keeps the version it was built against. */
    @Override public int spiVersion() { return SPI_VERSION; }

    @Override public Availability probe() { return Availability.available("pure-Java kernels on " + Runtime.getRuntime().availableProcessors() + " cores"); }

    @Override public Accelerator open(AcceleratorConfig config) { return new VendorAccelerator(); }
}
