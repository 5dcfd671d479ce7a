package dev.kiln.runtime.backend;

import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.UnaryOperator;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Finds accelerator providers with {@link ServiceLoader} and picks one: explicit choice, then the
 * {@code kiln.backend} system property, then the {@code KILN_BACKEND} environment variable, else
 * the available provider with the highest priority. A provider that fails to load or probe, or
 * was built for another SPI version, is reported with its reason and skipped, never fatal.
 *
 * <p>Selection logs one INFO line naming the choice and why, and a WARNING for each plugin that
 * would have been chosen (higher priority) or is broken (did not load, wrong SPI version) but is
 * unavailable; lower-priority unavailable plugins only at DEBUG. Logger {@value #LOGGER}.
 */
public final class Backends {
    public static final String PROPERTY = "kiln.backend";
    public static final String ENV = "KILN_BACKEND";
    public static final String LOGGER = "dev.kiln.runtime.backend";
    private static final System.Logger LOG = System.getLogger(LOGGER);

    private Backends() {}

    /** Every provider on the class path or module path, sorted by descending priority. */
    public static List<ProviderStatus> discover() { return discover(Backends.class.getClassLoader()); }

    /** Every provider {@code loader} sees (with its parents), sorted by descending priority. */
    public static List<ProviderStatus> discover(ClassLoader loader) {
        List<ProviderStatus> found = new ArrayList<>();
        Iterator<AcceleratorProvider> it = ServiceLoader.load(AcceleratorProvider.class, loader).iterator();
        while (true) {
            AcceleratorProvider p;
            try {
                if (!it.hasNext()) break;
                p = it.next();
            } catch (ServiceConfigurationError | LinkageError e) {
                found.add(new ProviderStatus("<unloadable>", Integer.MIN_VALUE, Availability.unavailable("failed to load: " + e), null));
                continue;
            }
            found.add(status(p));
        }
        found.sort(Comparator.comparingInt(ProviderStatus::priority).reversed());
        return List.copyOf(found);
    }

    private static ProviderStatus status(AcceleratorProvider p) {
        String location = location(p.getClass()), version = version(p.getClass()), vendor = vendor(p.getClass());
        String name;
        int priority;
        try {
            name = p.name();
            priority = p.priority();
        } catch (RuntimeException | LinkageError e) {
            return new ProviderStatus(p.getClass().getName(), Integer.MIN_VALUE,
                    Availability.unavailable("failed to describe itself: " + e), null, location, version, vendor);
        }
        String where = "plugin " + name + " (" + p.getClass().getName() + " in " + (location == null ? "an unknown location" : location) + ")";
        int built;
        try {
            built = p.spiVersion();
        } catch (AbstractMethodError e) {
            // Compiled against SPI 1, where spiVersion() was a default method the plugin did not implement.
            return new ProviderStatus(name, priority, Availability.unavailable(where + " was built for Kiln SPI version 1"
                    + " (it does not implement spiVersion()); this runtime speaks SPI version " + AcceleratorProvider.SPI_VERSION
                    + "; use a release of the plugin built for it"), null, location, version, vendor);
        } catch (RuntimeException | LinkageError e) {
            return new ProviderStatus(name, priority, Availability.unavailable(where + ": spiVersion() threw " + e), null, location, version, vendor);
        }
        if (built != AcceleratorProvider.SPI_VERSION) {
            return new ProviderStatus(name, priority, Availability.unavailable(where + " was built for Kiln SPI version " + built
                    + "; this runtime speaks SPI version " + AcceleratorProvider.SPI_VERSION
                    + "; use a release of the plugin built for it"), null, location, version, vendor);
        }
        Availability a;
        try {
            a = p.probe();
        } catch (RuntimeException | LinkageError e) {
            a = Availability.unavailable("probe threw " + e);
        }
        return new ProviderStatus(name, priority, a, p, location, version, vendor);
    }

    /** The jar or folder a class was loaded from, as a file path where it is one. */
    static String location(Class<?> c) {
        CodeSource source = c.getProtectionDomain().getCodeSource();
        URL url = source == null ? null : source.getLocation();
        if (url == null) return null;
        try {
            return "file".equals(url.getProtocol()) ? Path.of(url.toURI()).toString() : url.toString();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return url.toString();
        }
    }

    /**
     * The version in the plugin's module descriptor, else its manifest's Implementation-Version,
     * else the version in the module-info.class of its jar or folder (on the class path the JVM
     * ignores that file, but javac and Maven record the version there); null when none says.
     */
    static String version(Class<?> c) {
        Module m = c.getModule();
        if (m.isNamed() && m.getDescriptor() != null && m.getDescriptor().rawVersion().isPresent()) {
            return m.getDescriptor().rawVersion().get();
        }
        if (c.getPackage() != null && c.getPackage().getImplementationVersion() != null) return c.getPackage().getImplementationVersion();
        Path root = root(c);
        if (root == null) return null;
        try {
            if (Files.isDirectory(root)) {
                Path info = root.resolve("module-info.class");
                if (!Files.isRegularFile(info)) return null;
                try (InputStream in = Files.newInputStream(info)) {
                    return ModuleDescriptor.read(in).rawVersion().orElse(null);
                }
            }
            try (JarFile jar = new JarFile(root.toFile(), false, JarFile.OPEN_READ, Runtime.version())) {
                JarEntry info = jar.getJarEntry("module-info.class"); // the versioned entry of a multi-release jar
                if (info == null) return null;
                try (InputStream in = jar.getInputStream(info)) {
                    return ModuleDescriptor.read(in).rawVersion().orElse(null);
                }
            }
        } catch (IOException | RuntimeException e) {
            return null; // a version is a courtesy; never let it hide the plugin
        }
    }

    /** The jar or folder a class was loaded from, where that is a local file; else null. */
    private static Path root(Class<?> c) {
        CodeSource source = c.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null || !"file".equals(source.getLocation().getProtocol())) return null;
        try {
            return Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The {@code Implementation-Vendor} of the manifest of the plugin's jar (or folder), the
     * attribute Maven's jar plugin writes from the project's organization; null when none says.
     */
    static String vendor(Class<?> c) {
        Path root = root(c);
        return root == null ? null : vendorAt(root);
    }

    /** The Implementation-Vendor of the manifest in the jar or folder {@code root}, or null. */
    static String vendorAt(Path root) {
        try {
            Manifest manifest;
            if (Files.isDirectory(root)) {
                Path file = root.resolve(JarFile.MANIFEST_NAME);
                if (!Files.isRegularFile(file)) return null;
                try (InputStream in = Files.newInputStream(file)) {
                    manifest = new Manifest(in);
                }
            } else {
                try (JarFile jar = new JarFile(root.toFile(), false)) {
                    manifest = jar.getManifest();
                }
            }
            return manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.IMPLEMENTATION_VENDOR);
        } catch (IOException | RuntimeException e) {
            return null; // like the version, a courtesy
        }
    }

    /** Selects with the process's own system properties and environment. */
    public static ProviderStatus select(String explicit) {
        return select(explicit, discover(), System::getProperty, System::getenv);
    }

    /** Selection with injectable lookups, so tests can play the environment. */
    public static ProviderStatus select(String explicit, List<ProviderStatus> providers,
                                        UnaryOperator<String> properties, UnaryOperator<String> environment) {
        String wanted = explicit, source = "KilnConfig.backend";
        if (blank(wanted)) { wanted = properties.apply(PROPERTY); source = "-D" + PROPERTY; }
        if (blank(wanted)) { wanted = environment.apply(ENV); source = ENV; }
        if (!blank(wanted)) {
            String name = wanted.trim();
            for (ProviderStatus s : providers) {
                if (s.name().equalsIgnoreCase(name)) {
                    if (!s.available()) {
                        throw new IllegalStateException("accelerator '" + name + "' chosen by " + source + " is unavailable: "
                                + s.availability().reason() + "\n" + describe(providers));
                    }
                    logSkipped(providers, s, false);
                    LOG.log(Level.INFO, "Kiln: using {0} (chosen by {1}={2})", s.name(), source, name);
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown accelerator '" + name + "' chosen by " + source + "\n" + describe(providers));
        }
        for (ProviderStatus s : providers) {
            if (!s.available()) continue;
            logSkipped(providers, s, true);
            StringBuilder why = new StringBuilder("highest-priority available plugin");
            for (ProviderStatus o : providers) {
                if (o != s && !o.available() && o.priority() > s.priority()) {
                    why.append("; ").append(o.name()).append(" unavailable: ").append(o.availability().reason());
                }
            }
            LOG.log(Level.INFO, "Kiln: using {0} ({1})", s.name(), why);
            return s;
        }
        throw new IllegalStateException("no accelerator is available\n" + describe(providers));
    }

    /**
     * Unavailable plugins, once per selection. A broken one (not loaded, wrong SPI) is a
     * deployment mistake and always warned about; a working one that is merely unavailable here
     * is worth a warning only when it outranks the automatic choice, since the user then gets a
     * slower backend than the plugins on the class path promise.
     */
    private static void logSkipped(List<ProviderStatus> providers, ProviderStatus chosen, boolean automatic) {
        for (ProviderStatus s : providers) {
            if (s == chosen || s.available()) continue;
            boolean broken = s.provider() == null;
            if (broken) {
                LOG.log(Level.WARNING, "Kiln: accelerator plugin {0} skipped: {1}", s.name(), s.availability().reason());
            } else if (automatic && s.priority() > chosen.priority()) {
                LOG.log(Level.WARNING, "Kiln: accelerator plugin {0} (priority {1}) is present but unavailable, so {2} (priority {3}) runs instead: {4}",
                        s.name(), Integer.toString(s.priority()), chosen.name(), Integer.toString(chosen.priority()), s.availability().reason());
            } else {
                LOG.log(Level.DEBUG, "accelerator plugin {0} unavailable: {1}", s.name(), s.availability().reason());
            }
        }
    }

    /** A table of every provider and why it is or is not available, for error messages and diagnostics. */
    public static String describe(List<ProviderStatus> providers) {
        if (providers.isEmpty()) {
            return "no accelerator plugins were found on the class path; add one, e.g. dev.kiln:kiln-accel-cpu-onednn";
        }
        StringBuilder sb = new StringBuilder("accelerator plugins found:");
        for (ProviderStatus s : providers) sb.append("\n  ").append(s);
        return sb.toString();
    }

    private static boolean blank(String s) { return s == null || s.isBlank(); }
}
