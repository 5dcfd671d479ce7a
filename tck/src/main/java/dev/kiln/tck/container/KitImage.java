package dev.kiln.tck.container;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The container image a plugin's conformance kit runs in, and how it runs there. The runner
 * builds it on a Debian base made with {@code debootstrap} ({@code debianSuite}, minbase),
 * installs {@code debianPackages}, adds a JRE linked from the build's JDK (with
 * {@code jreModules} beside the runner's own), the test class path of the build that runs it
 * (the plugin, its dependencies, the kit) and {@code nativeArtifacts} (Maven coordinates
 * {@code group:artifact:version[:classifier]} read from the local repository, for native
 * libraries the build does not depend on), and runs {@code tests} with the JUnit Platform, the
 * kit subclass first, under {@code jvmOptions} and {@code environment}, with {@code devices}
 * from the host and no network.
 */
public record KitImage(String plugin, List<Class<?>> tests, String debianSuite, List<String> debianPackages, List<String> nativeArtifacts,
                       Map<String, String> environment, List<DeviceRequest> devices, List<String> jvmOptions, List<String> jreModules,
                       Duration timeout) {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]*");
    private static final Pattern DEBIAN_PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]+");
    private static final Pattern ENV = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern ARTIFACT = Pattern.compile("[\\w.-]+:[\\w.-]+:[\\w.-]+(:[\\w.-]+)?");
    private static final Pattern MODULE = Pattern.compile("[a-z][\\w]*(\\.[a-z][\\w]*)*");

    public KitImage {
        if (plugin == null || !NAME.matcher(plugin).matches()) throw new IllegalArgumentException("plugin name must be lower case like the provider's, got " + plugin);
        tests = List.copyOf(tests);
        if (tests.isEmpty()) throw new IllegalArgumentException(plugin + ": a kit image runs at least the kit subclass");
        if (debianSuite == null || !NAME.matcher(debianSuite).matches()) throw new IllegalArgumentException(plugin + ": Debian suite must be a name like bookworm, got " + debianSuite);
        debianPackages = checked(debianPackages, DEBIAN_PACKAGE, plugin + ": not a Debian package name");
        nativeArtifacts = checked(nativeArtifacts, ARTIFACT, plugin + ": not group:artifact:version[:classifier]");
        environment = Map.copyOf(environment);
        for (String k : environment.keySet()) if (!ENV.matcher(k).matches()) throw new IllegalArgumentException(plugin + ": not an environment variable name: " + k);
        devices = List.copyOf(devices);
        jvmOptions = List.copyOf(jvmOptions);
        jreModules = checked(jreModules, MODULE, plugin + ": not a module name");
        if (timeout == null || timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException(plugin + ": the kit's timeout must be positive, got " + timeout);
    }

    private static List<String> checked(List<String> values, Pattern p, String what) {
        for (String v : values) if (v == null || !p.matcher(v).matches()) throw new IllegalArgumentException(what + ": " + v);
        return List.copyOf(values);
    }

    /** A recipe for {@code plugin} whose kit is {@code kit}: Debian bookworm, nothing installed, no devices, 20 minutes. */
    public static Builder builder(String plugin, Class<?> kit) { return new Builder(plugin, kit); }

    /** The class the runner names the image after and runs first. */
    public Class<?> kit() { return tests.getFirst(); }

    public static final class Builder {
        private final String plugin;
        private final List<Class<?>> tests = new ArrayList<>();
        private String debianSuite = "bookworm";
        private final List<String> debianPackages = new ArrayList<>(), nativeArtifacts = new ArrayList<>(), jvmOptions = new ArrayList<>(), jreModules = new ArrayList<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private final List<DeviceRequest> devices = new ArrayList<>();
        private Duration timeout = Duration.ofMinutes(20);

        private Builder(String plugin, Class<?> kit) {
            this.plugin = plugin;
            tests.add(kit);
        }

        /** More test classes to run after the kit, e.g. the plugin's own device tests. */
        public Builder alsoRun(Class<?>... more) { tests.addAll(List.of(more)); return this; }

        public Builder debianSuite(String suite) { debianSuite = suite; return this; }

        public Builder debianPackages(String... names) { debianPackages.addAll(List.of(names)); return this; }

        public Builder nativeArtifacts(String... coordinates) { nativeArtifacts.addAll(List.of(coordinates)); return this; }

        public Builder environment(String name, String value) { environment.put(name, value); return this; }

        public Builder devices(DeviceRequest... requests) { devices.addAll(List.of(requests)); return this; }

        public Builder jvmOptions(String... options) { jvmOptions.addAll(List.of(options)); return this; }

        public Builder jreModules(String... modules) { jreModules.addAll(List.of(modules)); return this; }

        public Builder timeout(Duration t) { timeout = t; return this; }

        public KitImage build() {
            return new KitImage(plugin, tests, debianSuite, debianPackages, nativeArtifacts, environment, devices, jvmOptions, jreModules, timeout);
        }
    }
}
