package dev.kiln.api.testplugin;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/**
 * A plugin that says it was built for the SPI version before this one. (What an old jar does
 * without saying so, by having the old constant inlined, is runtime's SpiHandshakeTest.)
 */
public final class OldSpiProvider implements AcceleratorProvider {
    @Override public String name() { return "oldspi"; }

    @Override public int priority() { return 50; }

    @Override public int spiVersion() { return SPI_VERSION - 1; }

    @Override public Availability probe() { throw new AssertionError("a plugin of another SPI version must not be probed"); }

    @Override public Accelerator open(AcceleratorConfig config) { throw new AssertionError("must not be opened"); }
}
