/**
 * The conformance kit: a float64 reference interpreter of the IR and an abstract JUnit 5 class a
 * plugin subclasses to prove it computes what the IR means; and the recipe of the container image
 * a plugin's kit runs in ({@code dev.kiln.tck.container}), which {@code kiln-tck-containers} builds.
 */
module dev.kiln.tck {
    requires transitive dev.kiln.spi;
    requires dev.kiln.runtime;
    requires transitive org.junit.jupiter.api;

    exports dev.kiln.tck;
    exports dev.kiln.tck.container;
}
