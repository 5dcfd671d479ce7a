package dev.kiln.accel.xla;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.accel.xla.pjrt.PjrtPluginLocator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Availability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which executor the provider picks, and how it ranks, from what the plugin locator finds. */
class XlaProviderTest {
    @TempDir Path dir;

    private XlaProvider with(Map<String, String> env) { return XlaProvider.locating(new PjrtPluginLocator(env, dir, dir)); }

    @Test void withoutAPluginItIsXlaCpuRankedBelowOneDnn() {
        XlaProvider p = with(Map.of());
        assertEquals(50, p.priority());
        Availability a = p.probe();
        if (a.available()) assertTrue(a.reason().contains("XLA:CPU") && a.reason().contains("no PJRT plugin found"), a.reason());
    }

    @Test void aLocatedPluginRanksAboveOneDnnAndBelowCuda() throws Exception {
        Path so = Files.writeString(dir.resolve("pjrt_c_api_test_plugin.so"), "not an ELF file");
        XlaProvider p = with(Map.of("KILN_PJRT_PLUGIN", so.toString()));
        assertEquals(150, p.priority());
        Availability a = p.probe();
        assertTrue(a.available() && a.reason().contains(so.toString()), a.reason());
        // dlopen refuses the file; that is an exception naming it, not a crash.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.open(AcceleratorConfig.defaults()));
        assertTrue(e.getMessage().contains(so.toString()) && e.getMessage().contains("did not open"), e.getMessage());
    }

    @Test void aPinnedPluginThatIsMissingIsNotReplacedByXlaCpu() {
        Path missing = dir.resolve("no_such_plugin.so");
        XlaProvider p = with(Map.of("KILN_PJRT_PLUGIN", missing.toString()));
        Availability a = p.probe();
        assertFalse(a.available());
        assertTrue(a.reason().contains(missing.toString()), a.reason());
        assertThrows(IllegalStateException.class, () -> p.open(AcceleratorConfig.defaults()));
    }
}
