package dev.kiln.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.tck.container.DeviceRequest;
import dev.kiln.tck.container.KitImage;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** A recipe is checked when it is built, so a mistake names the plugin and the value instead of failing inside docker build. */
class KitImageTest {
    @Test void defaults() {
        KitImage i = KitImage.builder("acme", ToyConformanceTest.class).build();
        assertEquals("bookworm", i.debianSuite());
        assertEquals(List.of(), i.devices());
        assertEquals(Duration.ofMinutes(20), i.timeout());
        assertEquals(ToyConformanceTest.class, i.kit());
    }

    @Test void badValuesAreRefusedNamingThem() {
        refused("plugin name must be lower case", () -> KitImage.builder("Acme", ToyConformanceTest.class).build());
        refused("acme: not a Debian package name: libfoo; rm -rf", () -> KitImage.builder("acme", ToyConformanceTest.class).debianPackages("libfoo; rm -rf").build());
        refused("acme: not an environment variable name: 1X", () -> KitImage.builder("acme", ToyConformanceTest.class).environment("1X", "y").build());
        refused("acme: not group:artifact:version[:classifier]: cuda", () -> KitImage.builder("acme", ToyConformanceTest.class).nativeArtifacts("cuda").build());
        refused("device count is -1 (all) or at least 1, got 0", () -> new DeviceRequest("nvidia", 0, List.of("gpu")));
        refused("at least one capability", () -> new DeviceRequest("nvidia", 1, List.of()));
    }

    private static void refused(String message, Supplier<Object> make) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::get);
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
