/**
 * The conformance kit: a float64 reference interpreter of the IR and an abstract JUnit 5 class a
 * plugin subclasses to prove it computes what the IR means.
 */
module dev.kiln.tck {
    requires transitive dev.kiln.spi;
    requires dev.kiln.runtime;
    requires transitive org.junit.jupiter.api;

    exports dev.kiln.tck;
}
