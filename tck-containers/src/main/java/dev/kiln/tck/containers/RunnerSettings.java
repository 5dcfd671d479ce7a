package dev.kiln.tck.containers;

import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * Where the runner keeps what it makes once (the Debian base's tarball, the linked JREs), where
 * it reads Maven artifacts, which Debian mirror {@code debootstrap} uses, and whether it runs at
 * all: building images takes minutes the first time, so a build runs the container kit only when
 * asked with {@code -Dkiln.containers=true}.
 */
record RunnerSettings(boolean enabled, Path cache, Path mavenRepository, String debianMirror) {
    static final String ENABLE = "kiln.containers";
    static final String CACHE = "kiln.containers.cache", CACHE_ENV = "KILN_CONTAINER_CACHE";
    static final String MIRROR = "kiln.containers.mirror";

    /** From system properties and the environment; the mirror defaults to the one this machine's apt uses. */
    static RunnerSettings from(UnaryOperator<String> properties, UnaryOperator<String> environment) {
        String home = properties.apply("user.home");
        String cache = first(properties.apply(CACHE), environment.apply(CACHE_ENV), home + "/.cache/kiln/containers");
        String repo = first(properties.apply("maven.repo.local"), null, home + "/.m2/repository");
        return new RunnerSettings(Boolean.parseBoolean(properties.apply(ENABLE)), Path.of(cache), Path.of(repo), properties.apply(MIRROR));
    }

    static RunnerSettings fromSystem() { return from(System::getProperty, System::getenv); }

    private static String first(String a, String b, String fallback) {
        if (a != null && !a.isBlank()) return a;
        if (b != null && !b.isBlank()) return b;
        return fallback;
    }
}
