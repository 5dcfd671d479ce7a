/** The XLA accelerator: StableHLO run by a PJRT plugin, or by XLA's CPU compiler. Exports nothing. */
module dev.kiln.accel.xla {
    requires dev.kiln.spi;

    provides dev.kiln.spi.AcceleratorProvider with dev.kiln.accel.xla.XlaProvider;
}
