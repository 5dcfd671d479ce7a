package org.example.kiln.vendor;

import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.tck.AcceleratorConformanceTest;

/** The whole conformance test of a plugin: the kit, told which provider to check. */
class VendorConformanceTest extends AcceleratorConformanceTest {
    @Override protected AcceleratorProvider provider() { return new VendorProvider(); }
}
