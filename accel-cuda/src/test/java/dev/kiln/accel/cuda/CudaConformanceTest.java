package dev.kiln.accel.cuda;

import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.tck.AcceleratorConformanceTest;

/** The conformance kit against CUDA; skipped, with the probe's reason, where there is no usable GPU. */
class CudaConformanceTest extends AcceleratorConformanceTest {
    @Override protected AcceleratorProvider provider() { return new CudaProvider(); }
}
