package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.runtime.backend.Backends;
import dev.kiln.runtime.backend.ProviderStatus;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;
import dev.kiln.core.DType;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Both registrations name the same provider, and the provider finds oneDNN here. */
class OneDnnRegistrationTest {
    private static final String SERVICE = AcceleratorProvider.class.getName();

    @Test void servicesFileAndModuleInfoAgree() throws IOException, URISyntaxException {
        Set<String> fromFile;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/services/" + SERVICE)) {
            assertNotNull(in, "META-INF/services/" + SERVICE + " is missing");
            fromFile = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(l -> l.replaceFirst("#.*", "").strip()).filter(l -> !l.isEmpty()).collect(Collectors.toSet());
        }
        ModuleDescriptor module;
        // The class path may hold many module-info.class files; read the one beside the provider.
        Path root = Path.of(OneDnnProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (InputStream in = moduleInfo(root)) {
            module = ModuleDescriptor.read(in);
        }
        assertEquals("dev.kiln.accel.onednn", module.name());
        Set<String> fromModule = module.provides().stream().filter(p -> p.service().equals(SERVICE))
                .flatMap(p -> p.providers().stream()).collect(Collectors.toSet());
        assertEquals(Set.of(OneDnnProvider.class.getName()), fromFile);
        assertEquals(fromFile, fromModule);
        assertTrue(module.exports().isEmpty(), "a plugin exports nothing");
    }

    /** From the classes folder during a build, or from the jar when tests run against it. */
    private static InputStream moduleInfo(Path root) throws IOException {
        if (Files.isDirectory(root)) return Files.newInputStream(root.resolve("module-info.class"));
        JarFile jar = new JarFile(root.toFile());
        return jar.getInputStream(jar.getEntry("module-info.class"));
    }

    @Test void serviceLoaderFindsAnAvailableProvider() {
        List<AcceleratorProvider> found = ServiceLoader.load(AcceleratorProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.name().equals("onednn")).toList();
        assertEquals(1, found.size());
        Availability a = found.getFirst().probe();
        assertTrue(a.available(), a.toString());
        assertTrue(a.reason().startsWith("oneDNN "), a.reason());
        try (Accelerator acc = found.getFirst().open(new AcceleratorConfig(0, 1))) {
            assertEquals("onednn", acc.name());
            assertEquals("cpu", acc.devices().getFirst().kind());
        }
    }

    /** What Kiln.providers() shows for the plugin: where it was loaded from and the version javac recorded in its module-info. */
    @Test void discoveryReportsTheLocationAndVersionOfThePlugin() throws URISyntaxException {
        ProviderStatus s = Backends.discover().stream().filter(p -> p.name().equals("onednn")).findFirst().orElseThrow();
        assertTrue(s.available(), s.toString());
        Path root = Path.of(OneDnnProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertEquals(root.toString(), s.location());
        assertNotNull(s.version(), "version from module-info.class");
        assertTrue(s.version().matches("\\d+\\.\\d+.*"), s.version());
    }

    @Test void anExecutableFailsCleanlyAfterItsAcceleratorCloses() {
        Accelerator acc = new OneDnnProvider().open(AcceleratorConfig.defaults());
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 4));
        Graph g = b.build(List.of(b.unary(Primitive.UnaryFn.RELU, x)));
        Executable exe = acc.compile(g, CompileOptions.defaults());
        Buffer in = acc.upload(g.inputs().getFirst().type(), MemorySegment.ofArray(new float[] {-1, 0, 1, 2}));
        exe.run(List.of(in)).forEach(Buffer::close);
        acc.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> exe.run(List.of(in)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        in.close();
    }
}
