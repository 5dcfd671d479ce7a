package org.example.kiln.vendor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.ProviderInfo;
import dev.kiln.api.Tensor;
import dev.kiln.spi.AcceleratorProvider;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Both registrations name the provider, and Kiln finds the plugin through them and can run on it. */
class VendorRegistrationTest {
    /** On the class path (as here) ServiceLoader reads META-INF/services; on the module path, module-info's provides. */
    @Test void theServicesFileAndModuleInfoAgree() throws IOException {
        Set<String> fromFile = ServiceLoader.load(AcceleratorProvider.class).stream().map(p -> p.type().getName()).collect(Collectors.toSet());
        ModuleDescriptor module;
        try (InputStream in = Files.newInputStream(Path.of(VendorProvider.class.getProtectionDomain().getCodeSource().getLocation().getPath(), "module-info.class"))) {
            module = ModuleDescriptor.read(in);
        }
        Set<String> fromModule = module.provides().stream().filter(p -> p.service().equals(AcceleratorProvider.class.getName()))
                .flatMap(p -> p.providers().stream()).collect(Collectors.toSet());
        assertEquals(Set.of(VendorProvider.class.getName()), fromFile);
        assertEquals(fromFile, fromModule);
        assertTrue(module.exports().isEmpty(), "a plugin exports nothing");
    }

    @Test void kilnFindsItAndRunsOnIt() {
        ProviderInfo p = Kiln.providers().stream().filter(i -> i.name().equals("vendor")).findFirst().orElseThrow();
        assertTrue(p.available(), p.toString());
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("vendor").build()); Tensor x = kiln.tensor(new float[] {0, 1, 2}, 3); Tensor y = x.exp().add(1)) {
            assertEquals("vendor", kiln.backend());
            assertArrayEquals(new float[] {2, (float) (Math.E + 1), (float) (Math.exp(2) + 1)}, y.toFloatArray(), 1e-6f);
        }
    }
}
