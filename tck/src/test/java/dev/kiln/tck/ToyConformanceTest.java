package dev.kiln.tck;

import dev.kiln.spi.AcceleratorProvider;

/** The kit against the faultless toy plugin: what a plugin's whole conformance test looks like. */
class ToyConformanceTest extends AcceleratorConformanceTest {
    @Override protected AcceleratorProvider provider() { return new ToyProvider(ToyAccelerator.Variant.FAITHFUL); }
}
