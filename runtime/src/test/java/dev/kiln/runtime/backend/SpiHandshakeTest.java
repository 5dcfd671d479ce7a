package dev.kiln.runtime.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.spi.AcceleratorProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.spi.ToolProvider;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins really built against older SPIs: each is compiled here, with javac, against a copy of
 * {@code AcceleratorProvider} as an older release had it, and only the plugin goes into a jar.
 * Loaded next to this runtime's SPI, the version inlined at its compile time is what it reports.
 */
class SpiHandshakeTest {
    @TempDir Path dir;

    /** The SPI as it would be at version {@code version}, with spiVersion() abstract (today's shape). */
    private static String spi(int version) {
        return """
                package dev.kiln.spi;
                public interface AcceleratorProvider {
                    int SPI_VERSION = %d;
                    String name();
                    int priority();
                    Availability probe();
                    Accelerator open(AcceleratorConfig config);
                    int spiVersion();
                }
                """.formatted(version);
    }

    /** SPI version 1, where spiVersion() was a default method that plugins did not implement. */
    private static final String SPI_1 = """
            package dev.kiln.spi;
            public interface AcceleratorProvider {
                int SPI_VERSION = 1;
                String name();
                int priority();
                Availability probe();
                Accelerator open(AcceleratorConfig config);
                default int spiVersion() { return SPI_VERSION; }
            }
            """;

    private static String plugin(String name, boolean implementsSpiVersion) {
        return """
                package vendor;
                import dev.kiln.spi.*;
                public final class OldProvider implements AcceleratorProvider {
                    public String name() { return "%s"; }
                    public int priority() { return 300; }
                    public Availability probe() { return Availability.available("should never be asked"); }
                    public Accelerator open(AcceleratorConfig config) { throw new IllegalStateException(); }
                    %s
                }
                """.formatted(name, implementsSpiVersion ? "public int spiVersion() { return SPI_VERSION; }" : "");
    }

    @Test void aPluginCompiledAgainstAnOlderSpiConstantIsRejectedNamingItsJarAndBothVersions() throws Exception {
        Path jar = build("old0", spi(0), plugin("vendor-old", true));
        ProviderStatus s = find(jar, "vendor-old");
        assertFalse(s.available());
        assertNull(s.provider(), "an incompatible plugin cannot be opened");
        assertEquals(300, s.priority());
        assertEquals(jar.toString(), s.location());
        assertEquals("plugin vendor-old (vendor.OldProvider in " + jar + ") was built for Kiln SPI version 0; this runtime speaks SPI version "
                + AcceleratorProvider.SPI_VERSION + "; use a release of the plugin built for it", s.availability().reason());
    }

    @Test void aPluginOfSpiOneThatInheritedSpiVersionIsRejectedToo() throws Exception {
        Path jar = build("old1", SPI_1, plugin("vendor-one", false));
        ProviderStatus s = find(jar, "vendor-one");
        assertFalse(s.available());
        String r = s.availability().reason();
        assertTrue(r.startsWith("plugin vendor-one (vendor.OldProvider in " + jar + ") was built for Kiln SPI version 1 (it does not implement spiVersion())"), r);
        assertTrue(r.contains("this runtime speaks SPI version " + AcceleratorProvider.SPI_VERSION), r);
    }

    @Test void aPluginCompiledAgainstThisSpiIsAccepted() throws Exception {
        Path jar = build("current", spi(AcceleratorProvider.SPI_VERSION), plugin("vendor-new", true));
        ProviderStatus s = find(jar, "vendor-new");
        assertTrue(s.available(), s.toString());
        assertEquals(AcceleratorProvider.SPI_VERSION, s.provider().spiVersion());
    }

    private ProviderStatus find(Path jar, String name) throws IOException {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader())) {
            List<ProviderStatus> all = Backends.discover(loader);
            return all.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(all.toString()));
        }
    }

    /** Compiles the SPI copy and the plugin together, and jars the plugin alone with its service registration. */
    private Path build(String id, String spiSource, String pluginSource) throws IOException {
        Path src = dir.resolve(id + "/src"), classes = dir.resolve(id + "/classes");
        Path spiFile = src.resolve("dev/kiln/spi/AcceleratorProvider.java"), pluginFile = src.resolve("vendor/OldProvider.java");
        Files.createDirectories(spiFile.getParent());
        Files.createDirectories(pluginFile.getParent());
        Files.createDirectories(classes);
        Files.writeString(spiFile, spiSource);
        Files.writeString(pluginFile, pluginSource);
        // The rest of the SPI (Availability, Accelerator, ...) comes from this build's spi classes.
        String spiClasses = Path.of(AcceleratorProvider.class.getProtectionDomain().getCodeSource().getLocation().getPath()).toString();
        // javac through java.base's tool SPI: the runtime's test module need not read java.compiler.
        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow(() -> new AssertionError("no javac in this JDK"));
        StringWriter log = new StringWriter();
        PrintWriter out = new PrintWriter(log);
        int rc = javac.run(out, out, "-classpath", spiClasses, "-d", classes.toString(), "-proc:none", "-Xlint:none",
                spiFile.toString(), pluginFile.toString());
        out.flush();
        assertEquals(0, rc, log.toString());
        Path jar = dir.resolve(id + "/vendor-plugin.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(file)) {
            j.putNextEntry(new JarEntry("vendor/OldProvider.class"));
            j.write(Files.readAllBytes(classes.resolve("vendor/OldProvider.class")));
            j.putNextEntry(new JarEntry("META-INF/services/dev.kiln.spi.AcceleratorProvider"));
            j.write("vendor.OldProvider\n".getBytes(StandardCharsets.UTF_8));
        }
        return jar;
    }
}
