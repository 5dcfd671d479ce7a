package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.runtime.backend.Backends;
import dev.kiln.runtime.backend.ProviderStatus;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Registration agrees in both places; the probe never throws and explains itself; without a GPU the runtime falls back to onednn. */
class CudaRegistrationTest {
    private static final String SERVICE = AcceleratorProvider.class.getName();

    @Test void servicesFileAndModuleInfoAgree() throws IOException, URISyntaxException {
        // Other plugins on the class path have their own services files; read the one beside the provider.
        Path root = Path.of(CudaProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<String> fromFile;
        try (InputStream in = entry(root, "META-INF/services/" + SERVICE)) {
            assertNotNull(in, "META-INF/services/" + SERVICE + " is missing");
            fromFile = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(l -> l.replaceFirst("#.*", "").strip()).filter(l -> !l.isEmpty()).collect(Collectors.toSet());
        }
        ModuleDescriptor module;
        try (InputStream in = entry(root, "module-info.class")) {
            module = ModuleDescriptor.read(in);
        }
        assertEquals("dev.kiln.accel.cuda", module.name());
        Set<String> fromModule = module.provides().stream().filter(p -> p.service().equals(SERVICE))
                .flatMap(p -> p.providers().stream()).collect(Collectors.toSet());
        assertEquals(Set.of(CudaProvider.class.getName()), fromFile);
        assertEquals(fromFile, fromModule);
        assertTrue(module.exports().isEmpty(), "a plugin exports nothing");
    }

    /** From the classes folder during a build, or from the jar when tests run against it. */
    private static InputStream entry(Path root, String name) throws IOException {
        if (Files.isDirectory(root)) return Files.exists(root.resolve(name)) ? Files.newInputStream(root.resolve(name)) : null;
        JarFile jar = new JarFile(root.toFile());
        return jar.getEntry(name) == null ? null : jar.getInputStream(jar.getEntry(name));
    }

    @Test void providerOutranksOnednnAndProbesWithAReason() {
        CudaProvider p = new CudaProvider();
        assertEquals("cuda", p.name());
        assertEquals(200, p.priority());
        Availability a = p.probe();
        assertNotNull(a.reason());
        assertFalse(a.reason().isBlank(), "the probe must say why");
        if (!a.available()) {
            // One of the four precise reasons, not a stack trace.
            assertTrue(a.reason().startsWith("no CUDA driver") || a.reason().startsWith("no CUDA device")
                    || a.reason().startsWith("CUDA library not found") || a.reason().startsWith("CUDA driver too old"), a.reason());
        } else {
            assertTrue(a.reason().startsWith("CUDA driver "), a.reason());
        }
    }

    @Test void runtimePicksCudaWhenUsableElseFallsBackToOnednnWithTheReason() {
        List<ProviderStatus> found = Backends.discover();
        ProviderStatus cuda = found.stream().filter(s -> s.name().equals("cuda")).findFirst().orElseThrow();
        ProviderStatus chosen = Backends.select(null, found, k -> null, k -> null);
        if (cuda.available()) {
            assertEquals("cuda", chosen.name());
        } else {
            assertEquals("onednn", chosen.name(), Backends.describe(found));
            assertTrue(Backends.describe(found).contains(cuda.availability().reason()), Backends.describe(found));
        }
    }

    @Test void openingAnUnavailableProviderFailsWithTheReason() {
        CudaProvider p = new CudaProvider();
        Availability a = p.probe();
        if (a.available()) return;
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> p.open(dev.kiln.spi.AcceleratorConfig.defaults()));
        assertTrue(e.getMessage().contains(a.reason()), e.getMessage());
    }
}
