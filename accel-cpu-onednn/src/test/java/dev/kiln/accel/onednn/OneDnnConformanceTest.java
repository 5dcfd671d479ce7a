package dev.kiln.accel.onednn;

import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.tck.AcceleratorConformanceTest;

/** The conformance kit against oneDNN. */
class OneDnnConformanceTest extends AcceleratorConformanceTest {
    @Override protected AcceleratorProvider provider() { return new OneDnnProvider(); }
}
