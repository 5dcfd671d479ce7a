package dev.kiln.tck.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunnerSettingsTest {
    @Test void offByDefaultWithTheCacheUnderTheHome() {
        RunnerSettings s = RunnerSettings.from(Map.of("user.home", "/home/v")::get, k -> null);
        assertFalse(s.enabled());
        assertEquals(Path.of("/home/v/.cache/kiln/containers"), s.cache());
        assertEquals(Path.of("/home/v/.m2/repository"), s.mavenRepository());
        assertNull(s.debianMirror(), "the machine's apt sources decide");
    }

    @Test void propertiesAndTheEnvironmentOverride() {
        RunnerSettings s = RunnerSettings.from(Map.of("user.home", "/home/v", "kiln.containers", "true", "maven.repo.local", "/ci/repo",
                "kiln.containers.mirror", "http://m/debian")::get, Map.of("KILN_CONTAINER_CACHE", "/ci/cache")::get);
        assertTrue(s.enabled());
        assertEquals(Path.of("/ci/cache"), s.cache());
        assertEquals(Path.of("/ci/repo"), s.mavenRepository());
        assertEquals("http://m/debian", s.debianMirror());
    }
}
