package dev.kiln.accel.xla.pjrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PjrtPluginLocatorTest {
    @TempDir Path tmp;
    Path root, home;
    Map<String, String> env;

    @BeforeEach void setUp() throws IOException {
        root = Files.createDirectories(tmp.resolve("root"));
        home = Files.createDirectories(tmp.resolve("home"));
        env = new HashMap<>();
    }

    private Path file(String relative) throws IOException {
        Path p = tmp.resolve(relative);
        Files.createDirectories(p.getParent());
        return Files.writeString(p, "not really ELF");
    }

    private PjrtPluginLocator.Result locate() { return new PjrtPluginLocator(env, root, home).locate(); }

    @Test void nothingConfiguredExplainsEveryPlace() {
        var r = locate();
        assertFalse(r.found().isPresent());
        assertTrue(r.reason().contains("KILN_PJRT_PLUGIN is not set"), r.reason());
        assertTrue(r.reason().contains("PJRT_PLUGIN_LIBRARY_PATH is not set"), r.reason());
        assertTrue(r.reason().contains("TPU_LIBRARY_PATH is not set"), r.reason());
        assertTrue(r.reason().contains("KILN_PJRT_PYTHON_PLUGINS=1"), r.reason());
    }

    @Test void explicitPluginWins() throws IOException {
        Path p = file("x/my.so");
        env.put("KILN_PJRT_PLUGIN", p.toString());
        env.put("PJRT_PLUGIN_LIBRARY_PATH", file("y/pjrt_c_api_cpu_plugin.so").toString());
        var r = locate();
        assertEquals(p, r.found().orElseThrow().plugin());
        assertEquals("KILN_PJRT_PLUGIN", r.found().orElseThrow().source());
    }

    @Test void aMissingExplicitPluginStopsTheSearch() throws IOException {
        env.put("KILN_PJRT_PLUGIN", tmp.resolve("missing.so").toString());
        env.put("PJRT_PLUGIN_LIBRARY_PATH", file("y/pjrt_c_api_cpu_plugin.so").toString());
        var r = locate();
        assertFalse(r.found().isPresent());
        assertTrue(r.reason().contains("missing.so is not a file"), r.reason());
    }

    @Test void pluginPathDirectoryPrefersTheNamingConvention() throws IOException {
        file("plugins/aaa.so");
        Path cuda = file("plugins/pjrt_c_api_cuda_plugin.so");
        file("plugins/README");
        env.put("PJRT_PLUGIN_LIBRARY_PATH", tmp.resolve("plugins").toString());
        var r = locate();
        assertEquals(cuda, r.found().orElseThrow().plugin());
        assertTrue(r.found().orElseThrow().source().startsWith("PJRT_PLUGIN_LIBRARY_PATH directory"));
    }

    @Test void pluginPathDirectoryFallsBackToAnySo() throws IOException {
        Path any = file("plugins/libsomething.so");
        env.put("PJRT_PLUGIN_LIBRARY_PATH", tmp.resolve("plugins").toString());
        assertEquals(any, locate().found().orElseThrow().plugin());
    }

    @Test void pluginPathListIsSearchedInOrder() throws IOException {
        Files.createDirectories(tmp.resolve("empty"));
        Path second = file("b/pjrt_c_api_tpu_plugin.so");
        env.put("PJRT_PLUGIN_LIBRARY_PATH",
                tmp.resolve("nope") + ":" + tmp.resolve("empty") + "::" + second);
        var r = locate();
        assertEquals(second, r.found().orElseThrow().plugin());
        assertTrue(r.tried().stream().anyMatch(t -> t.contains("nope does not exist")), r.tried().toString());
        assertTrue(r.tried().stream().anyMatch(t -> t.contains("empty has no .so")), r.tried().toString());
    }

    @Test void libtpuFromFileOrDirectory() throws IOException {
        Path tpu = file("tpu/libtpu.so");
        env.put("TPU_LIBRARY_PATH", tpu.toString());
        assertEquals(tpu, locate().found().orElseThrow().plugin());
        env.put("TPU_LIBRARY_PATH", tpu.getParent().toString());
        var r = locate();
        assertEquals(tpu, r.found().orElseThrow().plugin());
        assertEquals("TPU_LIBRARY_PATH (libtpu)", r.found().orElseThrow().source());
    }

    @Test void pythonPluginsOnlyWhenAsked() throws IOException {
        Path jax = file("root/usr/local/lib/python3.12/dist-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so");
        assertFalse(locate().found().isPresent());
        env.put("KILN_PJRT_PYTHON_PLUGINS", "1");
        var r = locate();
        assertEquals(jax, r.found().orElseThrow().plugin());
        assertTrue(r.found().orElseThrow().source().startsWith("JAX plugin under"));
        env.remove("KILN_PJRT_PYTHON_PLUGINS");
        assertEquals(jax, new PjrtPluginLocator(env, root, home).withPythonPlugins().locate()
                .found().orElseThrow().plugin());
    }

    @Test void virtualEnvComesBeforeTheUserAndTheSystem() throws IOException {
        file("root/usr/lib/python3.11/site-packages/jax_plugins/xla_cpu/xla_cpu_plugin.so");
        file("home/.local/lib/python3.11/site-packages/jax_plugins/xla_rocm/xla_rocm_plugin.so");
        Path venv = file("venv/lib/python3.13/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so");
        env.put("KILN_PJRT_PYTHON_PLUGINS", "1");
        env.put("VIRTUAL_ENV", tmp.resolve("venv").toString());
        assertEquals(venv, locate().found().orElseThrow().plugin());
        env.remove("VIRTUAL_ENV");
        assertTrue(locate().found().orElseThrow().plugin().toString().contains("xla_rocm"));
    }

    @Test void pythonSearchWithoutPluginsSaysWhere() throws IOException {
        Files.createDirectories(root.resolve("usr/lib/python3.11/site-packages/jax_plugins/xla_cpu"));
        file("root/usr/lib/python3.11/site-packages/jax_plugins/not_a_plugin.so");
        env.put("KILN_PJRT_PYTHON_PLUGINS", "1");
        var r = locate();
        assertFalse(r.found().isPresent());
        assertTrue(r.reason().contains("no jax_plugins/*/xla_*_plugin.so under"), r.reason());
    }
}
