package org.example.kiln.vendor;

import dev.kiln.tck.container.KitImage;
import dev.kiln.tck.container.KitImageProvider;

/**
 * The clean system the kit proves the plugin on: Debian with nothing added, since the plugin is
 * pure Java. A plugin with native libraries lists its Debian packages here, and one with a
 * device its device requests (see docs/plugins.md).
 */
public final class VendorKitImage implements KitImageProvider {
    @Override public KitImage image() {
        return KitImage.builder("vendor", VendorConformanceTest.class).alsoRun(VendorRegistrationTest.class).build();
    }
}
