package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.testlog.CapturingLoggerFinder;
import dev.kiln.api.testplugin.UnavailableGpuProvider;
import dev.kiln.runtime.backend.Backends;
import dev.kiln.spi.AcceleratorProvider;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What selection says through System.Logger, read back from the test logger backend. The test
 * plugins are javaref (available, priority 1), fakegpu (priority 500, unavailable) and oldspi
 * (built for the previous SPI version).
 */
class BackendLoggingTest {
    @BeforeEach void clear() { CapturingLoggerFinder.clear(); }

    private static List<String> at(Level level) {
        return CapturingLoggerFinder.mine().stream()
                .filter(e -> e.logger().equals(Backends.LOGGER) && e.level() == level).map(CapturingLoggerFinder.Entry::message).toList();
    }

    @Test void theTestLoggerBackendIsInstalled() {
        assertTrue(System.LoggerFinder.getLoggerFinder() instanceof CapturingLoggerFinder, System.LoggerFinder.getLoggerFinder().getClass().getName());
    }

    @Test void automaticChoiceLogsOneInfoLineAndWarnsAboutTheUnavailableHigherPriorityPlugin() {
        assertEquals("javaref", Backends.select(null, Backends.discover(), k -> null, k -> null).name());
        List<String> info = at(Level.INFO);
        assertEquals(1, info.size(), info.toString());
        assertTrue(info.getFirst().startsWith("Kiln: using javaref (highest-priority available plugin; fakegpu unavailable: "
                + UnavailableGpuProvider.REASON), info.getFirst());
        assertTrue(info.getFirst().contains("oldspi unavailable: "), info.getFirst());
        List<String> warnings = at(Level.WARNING);
        assertTrue(warnings.contains("Kiln: accelerator plugin fakegpu (priority 500) is present but unavailable, so javaref (priority 1) runs instead: "
                + UnavailableGpuProvider.REASON), warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.startsWith("Kiln: accelerator plugin oldspi skipped: plugin oldspi")
                && w.contains("was built for Kiln SPI version " + (AcceleratorProvider.SPI_VERSION - 1))), warnings.toString());
        assertEquals(2, warnings.size(), warnings.toString());
    }

    @Test void kilnOpenSaysTheEnvironmentChose() {
        try (Kiln kiln = Kiln.open()) { // api tests run with KILN_BACKEND=javaref
            assertEquals("javaref", kiln.backend());
        }
        assertEquals(List.of("Kiln: using javaref (chosen by KILN_BACKEND=javaref)"), at(Level.INFO));
        // Chosen by name, a better plugin being unavailable is beside the point (DEBUG); a broken one still earns a warning.
        assertFalse(at(Level.WARNING).stream().anyMatch(w -> w.contains("fakegpu")), at(Level.WARNING).toString());
        assertTrue(at(Level.WARNING).stream().anyMatch(w -> w.contains("oldspi")), at(Level.WARNING).toString());
        assertTrue(at(Level.DEBUG).stream().anyMatch(w -> w.contains("fakegpu") && w.contains(UnavailableGpuProvider.REASON)), at(Level.DEBUG).toString());
    }

    @Test void theSystemPropertyAndTheConfigurationAreNamed() {
        Backends.select(null, Backends.discover(), Map.of("kiln.backend", "javaref")::get, k -> null);
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build())) {
            assertEquals("javaref", kiln.backend());
        }
        assertEquals(List.of("Kiln: using javaref (chosen by -Dkiln.backend=javaref)", "Kiln: using javaref (chosen by KilnConfig.backend=javaref)"),
                at(Level.INFO));
    }

    @Test void providersListsThePluginOfTheOldSpiWithItsLocationAndBothVersions() {
        ProviderInfo old = Kiln.providers().stream().filter(p -> p.name().equals("oldspi")).findFirst().orElseThrow();
        assertFalse(old.available());
        String classes = Path.of("target/test-classes").toAbsolutePath().toString();
        assertEquals(classes, old.location());
        assertEquals("plugin oldspi (dev.kiln.api.testplugin.OldSpiProvider in " + classes + ") was built for Kiln SPI version "
                + (AcceleratorProvider.SPI_VERSION - 1) + "; this runtime speaks SPI version " + AcceleratorProvider.SPI_VERSION
                + "; use a release of the plugin built for it", old.reason());
        ProviderInfo ref = Kiln.providers().stream().filter(p -> p.name().equals("javaref")).findFirst().orElseThrow();
        assertTrue(ref.available() && classes.equals(ref.location()), ref + " at " + ref.location());
    }
}
