package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.runtime.backend.Backends;
import dev.kiln.runtime.backend.ProviderStatus;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackendSelectionTest {
    /** A provider whose hardware is missing, to check that reasons are reported. */
    private static final AcceleratorProvider MISSING = new AcceleratorProvider() {
        public String name() { return "quantum"; }
        public int priority() { return 1000; }
        public int spiVersion() { return SPI_VERSION; }
        public Availability probe() { return Availability.unavailable("no quantum device attached"); }
        public Accelerator open(AcceleratorConfig c) { throw new AssertionError("must not be opened"); }
    };

    private static List<ProviderStatus> providers() {
        List<ProviderStatus> all = new ArrayList<>(Backends.discover());
        all.add(new ProviderStatus("quantum", 1000, MISSING.probe(), MISSING));
        return all;
    }

    @Test void theTestPluginIsDiscoveredByServiceLoader() {
        assertTrue(Kiln.providers().stream().anyMatch(p -> p.name().equals("javaref") && p.available()), Kiln.providers().toString());
    }

    @Test void kilnBackendEnvironmentVariableSelects() {
        ProviderStatus s = Backends.select(null, providers(), k -> null, Map.of("KILN_BACKEND", "javaref")::get);
        assertEquals("javaref", s.name());
    }

    @Test void surefireSetsKilnBackendAndKilnOpenHonoursIt() {
        assertEquals("javaref", System.getenv("KILN_BACKEND"), "api tests run with KILN_BACKEND=javaref (see api/pom.xml)");
        try (Kiln kiln = Kiln.open()) {
            assertEquals("javaref", kiln.backend());
        }
    }

    @Test void systemPropertyOverridesEnvironment() {
        ProviderStatus s = Backends.select(null, providers(), Map.of("kiln.backend", "javaref")::get, Map.of("KILN_BACKEND", "quantum")::get);
        assertEquals("javaref", s.name());
    }

    @Test void unavailableProvidersAreSkippedByPriority() {
        assertEquals("javaref", Backends.select(null, providers(), k -> null, k -> null).name());
    }

    @Test void unknownBackendListsEveryProviderAndWhy() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Backends.select(null, providers(), k -> null, Map.of("KILN_BACKEND", "tpu9000")::get));
        String m = e.getMessage();
        assertTrue(m.contains("unknown accelerator 'tpu9000'") && m.contains("KILN_BACKEND"), m);
        assertTrue(m.contains("javaref") && m.contains("available: pure-Java reference kernels"), m);
        assertTrue(m.contains("quantum") && m.contains("unavailable: no quantum device attached"), m);
    }

    @Test void choosingAnUnavailableBackendSaysWhy() {
        var e = assertThrows(IllegalStateException.class, () -> Backends.select("quantum", providers(), k -> null, k -> null));
        assertTrue(e.getMessage().contains("no quantum device attached"), e.getMessage());
    }
}
