package dev.kiln.accel.cuda;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/**
 * Finds an NVIDIA GPU. Constructing it is free; the driver is asked in {@link #probe()}, which
 * says exactly what is missing (driver, device, library, driver version) and never throws.
 */
public final class CudaProvider implements AcceleratorProvider {
    public CudaProvider() {}

    @Override public String name() { return "cuda"; }

    /** Above onednn (100): a GPU, when present and usable, is the better default. */
    /** The SPI this plugin was compiled against: javac inlines the constant here, see the interface. */
    @Override public int spiVersion() { return SPI_VERSION; }

    @Override public int priority() { return 200; }

    @Override public Availability probe() {
        try {
            String problem = CudaLibraries.problem();
            if (problem != null) return Availability.unavailable(problem);
            return Availability.available(CudaDevice.describeAll());
        } catch (Throwable t) {
            return Availability.unavailable("probe failed: " + CudaLibraries.rootMessage(t));
        }
    }

    @Override public Accelerator open(AcceleratorConfig config) {
        CudaLibraries.require();
        return new CudaAccelerator(config);
    }
}
