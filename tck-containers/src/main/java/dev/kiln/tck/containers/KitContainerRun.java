package dev.kiln.tck.containers;

import com.github.dockerjava.api.DockerClient;
import dev.kiln.tck.container.KitImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * One plugin's kit in its own container: checks the host can give it its devices, builds (or
 * finds) its image, runs the container without network until the kit exits, copies the report
 * out and removes the container; the report becomes the host's tests.
 */
final class KitContainerRun {
    private final DockerClient docker;
    private final RunnerSettings settings;

    KitContainerRun(DockerClient docker, RunnerSettings settings) {
        this.docker = docker;
        this.settings = settings;
    }

    Stream<DynamicNode> run(KitImage recipe) {
        Set<String> runtimes = docker.infoCmd().exec().getRuntimes().keySet();
        Optional<String> noDevices = HostDevices.unsatisfied(recipe.devices(), runtimes);
        if (noDevices.isPresent()) return Stream.of(ReportTree.skipped(recipe.plugin(), "devices", recipe.plugin() + " skipped: " + noDevices.get()));
        List<Path> classPath = new ArrayList<>(KitClassPath.ofThisBuild());
        for (String a : recipe.nativeArtifacts()) {
            Optional<Path> jar = KitClassPath.artifact(settings.mavenRepository(), a);
            if (jar.isEmpty()) {
                return Stream.of(ReportTree.skipped(recipe.plugin(), "native artifacts", recipe.plugin() + " skipped: its image needs " + a + ", which is not in "
                        + settings.mavenRepository() + "; fetch it with mvn dependency:get -Dartifact=" + a));
            }
            classPath.add(jar.get());
        }
        long start = System.nanoTime();
        String base = DebianBase.ensure(docker, recipe.debianSuite(), settings);
        Path jre = KitJre.ensure(settings.cache(), recipe.jreModules());
        KitImageBuild.Built image = new KitImageBuild(recipe, base, jre, classPath).ensure(docker);
        Timings.log((image.reused() ? "found " : "made ") + image.name() + String.format(" (%.0f MB)", image.bytes() / 1e6), start);
        KitReport report = runContainer(recipe, image.name());
        String figures = String.format("image %s, %.0f MB%s: %d passed, %d failed, %d skipped", image.name(), image.bytes() / 1e6,
                image.reused() ? ", cached" : "", report.count(KitReport.Status.PASSED), report.count(KitReport.Status.FAILED), report.count(KitReport.Status.SKIPPED));
        return Stream.concat(Stream.of(ReportTree.passed(recipe.plugin(), figures)), ReportTree.of(recipe.plugin(), report).stream());
    }

    private KitReport runContainer(KitImage recipe, String image) {
        long start = System.nanoTime();
        try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image))) {
            // The kit needs nothing from the network, and proves it.
            c.withNetworkMode("none")
                    .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(recipe.timeout()))
                    .withLogConsumer(frame -> {
                        String line = frame.getUtf8StringWithoutLineEnding();
                        if (!line.isBlank()) System.out.println("[" + recipe.plugin() + "] " + line);
                    })
                    .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withDeviceRequests(HostDevices.toDocker(recipe.devices())));
            c.start();
            KitReport report = c.copyFileFromContainer(KitImageBuild.REPORT, KitReport::read);
            Timings.log("ran the " + recipe.plugin() + " kit in " + image, start);
            return report;
        }
    }
}
