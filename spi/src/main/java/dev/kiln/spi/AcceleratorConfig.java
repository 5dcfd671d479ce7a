package dev.kiln.spi;

/** How to open an accelerator. {@code threads == 0} means all cores. */
public record AcceleratorConfig(int deviceIndex, int threads) {
    public static AcceleratorConfig defaults() { return new AcceleratorConfig(0, 0); }

    public AcceleratorConfig {
        if (deviceIndex < 0 || threads < 0) throw new IllegalArgumentException("deviceIndex and threads must be >= 0");
    }
}
