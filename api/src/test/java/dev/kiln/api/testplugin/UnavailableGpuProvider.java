package dev.kiln.api.testplugin;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/** A plugin that outranks everything but never has its hardware, like cuda on a machine without a GPU. */
public final class UnavailableGpuProvider implements AcceleratorProvider {
    public static final String REASON = "no fake GPU attached (test plugin)";

    @Override public String name() { return "fakegpu"; }

    @Override public int priority() { return 500; }

    @Override public int spiVersion() { return SPI_VERSION; }

    @Override public Availability probe() { return Availability.unavailable(REASON); }

    @Override public Accelerator open(AcceleratorConfig config) { throw new IllegalStateException(REASON); }
}
