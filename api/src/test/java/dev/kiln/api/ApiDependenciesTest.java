package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every application that embeds Kiln gets dev.kiln.api and what it requires, so it must stay free
 * of desktop code and third-party libraries; optional features (plots) live in their own modules.
 */
class ApiDependenciesTest {
    /** api's own compiled module-info, not whichever module-info.class comes first on the class path. */
    static ModuleDescriptor apiDescriptor() throws Exception {
        Path where = Path.of(URI.create(Kiln.class.getProtectionDomain().getCodeSource().getLocation().toString()));
        if (Files.isDirectory(where)) {
            try (InputStream in = Files.newInputStream(where.resolve("module-info.class"))) {
                return ModuleDescriptor.read(in);
            }
        }
        try (JarFile jar = new JarFile(where.toFile()); InputStream in = jar.getInputStream(jar.getEntry("module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    @Test void apiRequiresOnlyKilnModulesAndTheJdkWithoutJavaDesktop() throws Exception {
        ModuleDescriptor d = apiDescriptor();
        assertTrue(d.name().equals("dev.kiln.api"), d.name());
        List<String> requires = d.requires().stream().map(ModuleDescriptor.Requires::name).sorted().toList();
        assertFalse(requires.contains("java.desktop"), "api must not pull in AWT/Swing: " + requires);
        for (String r : requires) {
            assertTrue(r.startsWith("dev.kiln.") || r.startsWith("java.") || r.startsWith("jdk."),
                    "api requires a third-party module " + r + "; put the feature in an optional module: " + requires);
        }
        assertFalse(d.exports().stream().anyMatch(e -> e.source().contains("plot")), "plots live in dev.kiln.plot (kiln-plot)");
    }

    @Test void noChartLibraryIsOnApisClassPath() {
        String cp = System.getProperty("java.class.path");
        assertNotNull(cp);
        List<String> chart = List.of(cp.split(java.io.File.pathSeparator)).stream()
                .filter(e -> e.toLowerCase(java.util.Locale.ROOT).contains("jfree")).collect(Collectors.toList());
        assertTrue(chart.isEmpty(), "a chart library reached kiln-api's dependencies: " + chart);
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.jfree.chart.JFreeChart"));
    }
}
