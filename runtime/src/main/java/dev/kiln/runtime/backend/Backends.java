package dev.kiln.runtime.backend;

import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.UnaryOperator;

/**
 * Finds accelerator providers with {@link ServiceLoader} and picks one: explicit choice, then the
 * {@code kiln.backend} system property, then the {@code KILN_BACKEND} environment variable, else
 * the available provider with the highest priority. A provider that fails to load or probe is
 * reported with its reason and skipped, never fatal.
 */
public final class Backends {
    public static final String PROPERTY = "kiln.backend";
    public static final String ENV = "KILN_BACKEND";
    private static final System.Logger LOG = System.getLogger("dev.kiln.runtime.backend");

    private Backends() {}

    /** Every provider on the class path or module path, sorted by descending priority. */
    public static List<ProviderStatus> discover() {
        List<ProviderStatus> found = new ArrayList<>();
        Iterator<AcceleratorProvider> it = ServiceLoader.load(AcceleratorProvider.class, Backends.class.getClassLoader()).iterator();
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
        String name;
        int priority;
        try {
            name = p.name();
            priority = p.priority();
        } catch (RuntimeException | LinkageError e) {
            return new ProviderStatus(p.getClass().getName(), Integer.MIN_VALUE, Availability.unavailable("failed to describe itself: " + e), null);
        }
        if (p.spiVersion() != AcceleratorProvider.SPI_VERSION) {
            return new ProviderStatus(name, priority, Availability.unavailable("built for SPI version " + p.spiVersion()
                    + ", this runtime speaks " + AcceleratorProvider.SPI_VERSION), null);
        }
        Availability a;
        try {
            a = p.probe();
        } catch (RuntimeException | LinkageError e) {
            a = Availability.unavailable("probe threw " + e);
        }
        return new ProviderStatus(name, priority, a, p);
    }

    /** Selects with the process's own system properties and environment. */
    public static ProviderStatus select(String explicit) {
        return select(explicit, discover(), System::getProperty, System::getenv);
    }

    /** Selection with injectable lookups, so tests can play the environment. */
    public static ProviderStatus select(String explicit, List<ProviderStatus> providers,
                                        UnaryOperator<String> properties, UnaryOperator<String> environment) {
        String wanted = explicit, source = "the configuration";
        if (blank(wanted)) { wanted = properties.apply(PROPERTY); source = "-D" + PROPERTY; }
        if (blank(wanted)) { wanted = environment.apply(ENV); source = ENV; }
        for (ProviderStatus s : providers) {
            if (!s.available() && s.provider() != null) LOG.log(Level.DEBUG, "accelerator {0} skipped: {1}", s.name(), s.availability().reason());
        }
        if (!blank(wanted)) {
            String name = wanted.trim();
            for (ProviderStatus s : providers) {
                if (s.name().equalsIgnoreCase(name)) {
                    if (s.available()) return s;
                    throw new IllegalStateException("accelerator '" + name + "' chosen by " + source + " is unavailable: "
                            + s.availability().reason() + "\n" + describe(providers));
                }
            }
            throw new IllegalArgumentException("unknown accelerator '" + name + "' chosen by " + source + "\n" + describe(providers));
        }
        for (ProviderStatus s : providers) {
            if (s.available()) return s;
        }
        throw new IllegalStateException("no accelerator is available\n" + describe(providers));
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
