package dev.kiln.accel.xla.pjrt;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds a PJRT plugin (a shared library exporting {@code GetPjrtApi}) without loading it, and says
 * how it was found or why none was. Only existence is checked here; whether the file really exports
 * {@code GetPjrtApi} is learnt when it is opened.
 *
 * <p>In order: {@code KILN_PJRT_PLUGIN} (a path to a .so; when set it is the only answer, so a typo
 * fails loudly instead of quietly picking another plugin), {@code PJRT_PLUGIN_LIBRARY_PATH} (a
 * colon-separated list of .so files or directories; in a directory {@code pjrt_c_api_<name>_plugin.so}
 * is preferred over any other {@code *.so}, the convention of other PJRT bindings), libtpu via
 * {@code TPU_LIBRARY_PATH}, and only when asked ({@code KILN_PJRT_PYTHON_PLUGINS=1} or
 * {@link #withPythonPlugins}) JAX's {@code jax_plugins/<pkg>/xla_<name>_plugin.so} under Python
 * site-packages: opt-in, because those plugins need the CUDA libraries of the same Python
 * environment and are not Kiln's to pick by surprise.
 */
public final class PjrtPluginLocator {
    /** A plugin file and a sentence saying where it came from. */
    public record Location(Path plugin, String source) {}

    /** The plugin if one was found, and one line for each place looked at. */
    public record Result(Optional<Location> found, List<String> tried) {
        /** Why nothing was found, for an error message. */
        public String reason() {
            return found.isPresent() ? "" : "no PJRT plugin found: " + String.join("; ", tried);
        }
    }

    private final Map<String, String> env;
    private final Path root;
    private final Path home;
    private final boolean python;

    /**
     * @param env  the environment to read (tests inject one)
     * @param root where absolute system directories such as {@code /usr/lib} are looked up ("/" for real)
     * @param home the user's home directory, for {@code ~/.local}
     */
    public PjrtPluginLocator(Map<String, String> env, Path root, Path home) {
        this(env, root, home, "1".equals(env.get("KILN_PJRT_PYTHON_PLUGINS")));
    }

    private PjrtPluginLocator(Map<String, String> env, Path root, Path home, boolean python) {
        this.env = Map.copyOf(env);
        this.root = root;
        this.home = home;
        this.python = python;
    }

    /** The real environment and file system. */
    public static PjrtPluginLocator system() {
        return new PjrtPluginLocator(System.getenv(), Path.of("/"), Path.of(System.getProperty("user.home")));
    }

    /** The same locator, also searching Python site-packages for JAX plugins. */
    public PjrtPluginLocator withPythonPlugins() { return new PjrtPluginLocator(env, root, home, true); }

    /** Whether {@code KILN_PJRT_PLUGIN} names the plugin, so that nothing else may stand in for it. */
    public boolean pinned() { return nonBlank("KILN_PJRT_PLUGIN") != null; }

    public Result locate() {
        List<String> tried = new ArrayList<>();

        String explicit = nonBlank("KILN_PJRT_PLUGIN");
        if (explicit != null) {
            Path p = Path.of(explicit);
            if (Files.isRegularFile(p)) return found(p, "KILN_PJRT_PLUGIN", tried);
            tried.add("KILN_PJRT_PLUGIN=" + explicit + " is not a file (nothing else is tried while it is set)");
            return new Result(Optional.empty(), List.copyOf(tried));
        }
        tried.add("KILN_PJRT_PLUGIN is not set");

        String pluginPath = nonBlank("PJRT_PLUGIN_LIBRARY_PATH");
        if (pluginPath != null) {
            for (String entry : pluginPath.split(":")) {
                if (entry.isBlank()) continue;
                Path p = Path.of(entry);
                if (Files.isRegularFile(p) && p.getFileName().toString().endsWith(".so"))
                    return found(p, "PJRT_PLUGIN_LIBRARY_PATH entry " + entry, tried);
                if (Files.isDirectory(p)) {
                    Optional<Path> inDir = pluginIn(p);
                    if (inDir.isPresent())
                        return found(inDir.get(), "PJRT_PLUGIN_LIBRARY_PATH directory " + entry, tried);
                    tried.add("PJRT_PLUGIN_LIBRARY_PATH directory " + entry + " has no .so");
                } else {
                    tried.add("PJRT_PLUGIN_LIBRARY_PATH entry " + entry + " does not exist");
                }
            }
        } else {
            tried.add("PJRT_PLUGIN_LIBRARY_PATH is not set");
        }

        String tpu = nonBlank("TPU_LIBRARY_PATH");
        if (tpu != null) {
            Path p = Path.of(tpu);
            if (Files.isDirectory(p)) p = p.resolve("libtpu.so");
            if (Files.isRegularFile(p)) return found(p, "TPU_LIBRARY_PATH (libtpu)", tried);
            tried.add("TPU_LIBRARY_PATH=" + tpu + " is not libtpu");
        } else {
            tried.add("TPU_LIBRARY_PATH is not set");
        }

        if (python) {
            List<Path> sites = sitePackages();
            for (Path site : sites) {
                Optional<Path> jax = jaxPlugin(site);
                if (jax.isPresent()) return found(jax.get(), "JAX plugin under " + site, tried);
            }
            tried.add(sites.isEmpty() ? "no Python site-packages directory found"
                    : "no jax_plugins/*/xla_*_plugin.so under " + sites);
        } else {
            tried.add("Python site-packages not searched (set KILN_PJRT_PYTHON_PLUGINS=1)");
        }
        return new Result(Optional.empty(), List.copyOf(tried));
    }

    private static Result found(Path p, String how, List<String> tried) {
        return new Result(Optional.of(new Location(p.toAbsolutePath().normalize(), how)), List.copyOf(tried));
    }

    private String nonBlank(String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    /** {@code pjrt_c_api_<name>_plugin.so} first, then any {@code *.so}; by name within each, for repeatability. */
    static Optional<Path> pluginIn(Path dir) {
        List<Path> so = sorted(dir, "*.so");
        return so.stream().filter(p -> {
            String n = p.getFileName().toString();
            return n.startsWith("pjrt_c_api_") && n.endsWith("_plugin.so");
        }).findFirst().or(() -> so.stream().findFirst());
    }

    /** Python site-packages directories, existing ones only, in a fixed order. */
    List<Path> sitePackages() {
        List<Path> out = new ArrayList<>();
        String venv = nonBlank("VIRTUAL_ENV");
        if (venv != null) out.addAll(pythonDirs(Path.of(venv).resolve("lib"), "site-packages"));
        out.addAll(pythonDirs(home.resolve(".local/lib"), "site-packages"));
        out.addAll(pythonDirs(root.resolve("usr/local/lib"), "dist-packages"));
        out.addAll(pythonDirs(root.resolve("usr/local/lib"), "site-packages"));
        out.addAll(pythonDirs(root.resolve("usr/lib"), "site-packages"));
        out.addAll(pythonDirs(root.resolve("usr/lib"), "dist-packages"));
        return out;
    }

    /** {@code lib/python3*}/{@code leaf} directories under {@code lib}. */
    private static List<Path> pythonDirs(Path lib, String leaf) {
        return sorted(lib, "python3*").stream().map(p -> p.resolve(leaf)).filter(Files::isDirectory).toList();
    }

    private static Optional<Path> jaxPlugin(Path site) {
        return sorted(site.resolve("jax_plugins"), "*").stream()
                .filter(Files::isDirectory)
                .flatMap(pkg -> sorted(pkg, "xla_*_plugin.so").stream())
                .filter(Files::isRegularFile)
                .findFirst();
    }

    private static List<Path> sorted(Path dir, String glob) {
        if (!Files.isDirectory(dir)) return List.of();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
            List<Path> out = new ArrayList<>();
            s.forEach(out::add);
            out.sort(null);
            return out;
        } catch (IOException e) {
            // An unreadable directory is a place without a plugin, not a failure of the search.
            return List.of();
        }
    }
}
