package dev.kiln.tck.containers;

import com.github.dockerjava.api.DockerClient;
import dev.kiln.tck.container.KitImage;
import dev.kiln.tck.container.KitImageProvider;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;
import org.testcontainers.DockerClientFactory;

/**
 * The container kit: every {@link KitImageProvider} on the test class path has its conformance
 * kit run inside an image of its own, one container per plugin, and the results come back as
 * this class's tests ({@code onednn > OneDnnConformanceTest > forward f32 > tanh > forward f32:
 * tanh [3,13]}). A plugin module runs it by scanning this artifact
 * ({@code <dependenciesToScan>dev.kiln:kiln-tck-containers</dependenciesToScan>} in surefire)
 * and turns it on with {@code -Dkiln.containers=true}; without it, or without Docker, it skips
 * saying why. Testcontainers' resource reaper is an image from Docker Hub, so it must be off
 * ({@code TESTCONTAINERS_RYUK_DISABLED=true} in the test environment): the runner removes its
 * containers itself.
 */
public class ContainerKitTest {

    @TestFactory
    Stream<DynamicNode> kitsInContainers() {
        RunnerSettings settings = RunnerSettings.fromSystem();
        // Skipped as one test rather than an aborted factory: build tools show a test's reason, not a factory's.
        if (!settings.enabled()) {
            return Stream.of(ReportTree.skipped("container kit", "off", "the container kit is off: it needs a running Docker engine (root, dockerd started, debootstrap installed); "
                    + "where one exists, ./mvnw -pl accel-cpu-onednn verify -D" + RunnerSettings.ENABLE
                    + "=true -Dtest=ContainerKitTest runs each plugin's kit inside its own image, as .ci/run does"));
        }
        List<KitImage> recipes = ServiceLoader.load(KitImageProvider.class).stream().map(p -> p.get().image()).toList();
        if (recipes.isEmpty()) {
            return Stream.of(ReportTree.skipped("container kit", "no recipes", "no " + KitImageProvider.class.getName()
                    + " on the test class path: a plugin registers its recipe in src/test/resources/META-INF/services (see docs/plugins.md)"));
        }
        if (!Boolean.parseBoolean(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) {
            throw new IllegalStateException("set TESTCONTAINERS_RYUK_DISABLED=true in the tests' environment (surefire's environmentVariables):"
                    + " Testcontainers' resource reaper is an image from Docker Hub, and the runner removes its containers itself");
        }
        DockerClient docker;
        try {
            docker = DockerClientFactory.instance().client();
        } catch (IllegalStateException e) {
            return Stream.of(ReportTree.skipped("container kit", "no Docker", "Docker is not available, so the container kit cannot run: " + e.getMessage()));
        }
        KitContainerRun run = new KitContainerRun(docker, settings);
        return recipes.stream().map(r -> DynamicContainer.dynamicContainer(r.plugin(), Stream.of(r).flatMap(run::run)));
    }
}
