package dev.kiln.runtime.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** providers() names a plugin's vendor from the Implementation-Vendor its jar's manifest carries (Maven writes it from the organization). */
class PluginVendorTest {
    @TempDir Path dir;

    private static Manifest manifest(String vendor) {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (vendor != null) m.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VENDOR, vendor);
        return m;
    }

    @Test void fromAJar() throws IOException {
        Path jar = dir.resolve("plugin.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest("Acme Accelerators"))) {
            j.flush();
        }
        assertEquals("Acme Accelerators", Backends.vendorAt(jar));
    }

    @Test void fromAFolderWithAManifest() throws IOException {
        Path file = dir.resolve(JarFile.MANIFEST_NAME);
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            manifest("Acme Accelerators").write(out);
        }
        assertEquals("Acme Accelerators", Backends.vendorAt(dir));
    }

    @Test void unknownWithoutOne() throws IOException {
        assertNull(Backends.vendorAt(dir), "a classes folder has no manifest");
        Path jar = dir.resolve("plain.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest(null))) {
            j.flush();
        }
        assertNull(Backends.vendorAt(jar));
        assertNull(Backends.vendorAt(dir.resolve("missing.jar")));
    }
}
