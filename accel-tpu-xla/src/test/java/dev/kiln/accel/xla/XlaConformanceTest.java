package dev.kiln.accel.xla;

import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.tck.AcceleratorConformanceTest;

/**
 * The conformance kit against XLA through XLA:CPU (TensorFlow's {@code XlaCallModule}): every
 * graph is emitted as StableHLO and compiled by XLA. Skipped, with the probe's reason, where
 * TensorFlow's native library does not load.
 */
class XlaConformanceTest extends AcceleratorConformanceTest {
    @Override protected AcceleratorProvider provider() { return new XlaProvider(); }
}
