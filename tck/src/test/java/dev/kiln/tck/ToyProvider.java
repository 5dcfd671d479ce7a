package dev.kiln.tck;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/** The provider of {@link ToyAccelerator}, faithful, narrowed or with one planted fault. */
record ToyProvider(ToyAccelerator.Variant variant) implements AcceleratorProvider {
    @Override public String name() { return "toy"; }

    @Override public int priority() { return 0; }

    @Override public int spiVersion() { return SPI_VERSION; }

    @Override public Availability probe() { return Availability.available("pure Java, variant " + variant); }

    @Override public Accelerator open(AcceleratorConfig config) { return new ToyAccelerator(variant); }
}
