/**
 * The container kit: builds each plugin's conformance-kit image offline (a Debian base from
 * debootstrap, a JRE from jlink, the build's test class path) and runs the kit inside it with
 * Testcontainers, reporting the results as JUnit tests on the host.
 */
module dev.kiln.tck.containers {
    requires dev.kiln.tck;
    requires org.junit.jupiter.api;
    requires org.junit.platform.launcher;
    requires testcontainers;
    requires com.github.dockerjava.api;
    requires org.apache.commons.compress;

    exports dev.kiln.tck.containers;

    uses dev.kiln.tck.container.KitImageProvider;
    uses java.util.spi.ToolProvider;
}
