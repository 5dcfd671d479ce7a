package dev.kiln.tck.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Debian base every kit image starts from, made without a registry: {@code debootstrap
 * --variant=minbase} from the machine's own Debian mirror, packed as a tarball in the runner's
 * cache and imported as {@code kiln/debian:SUITE-minbase} (a build of {@code FROM scratch} and
 * {@code ADD} of the tarball: docker-java's own import sends its stream as JSON). Made once: an
 * image already in Docker is used as it is, and a cached tarball is imported (seconds) instead
 * of bootstrapped again (a minute or two). {@code docker import TARBALL} makes the same image by hand.
 */
final class DebianBase {
    private DebianBase() {}

    static String imageName(String suite) { return "kiln/debian:" + suite + "-minbase"; }

    /** The base image's name, after importing or making it if Docker does not have it. */
    static String ensure(DockerClient docker, String suite, RunnerSettings settings) {
        String name = imageName(suite);
        try {
            docker.inspectImageCmd(name).exec();
            return name;
        } catch (NotFoundException absent) {
            // import or make it below
        }
        Path tarball = settings.cache().resolve("debian-" + suite + "-minbase.tar");
        if (!Files.isRegularFile(tarball)) bootstrap(suite, settings, tarball);
        long start = System.nanoTime();
        try (InputStream context = BuildContext.of(Map.of("Dockerfile", "FROM scratch\nADD rootfs.tar /\nCMD [\"bash\"]\n"), Map.of("rootfs.tar", tarball))) {
            docker.buildImageCmd().withTarInputStream(context).withTags(Set.of(name)).start().awaitImageId();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the cached Debian base " + tarball + ": " + e.getMessage(), e);
        }
        Timings.log("imported " + name + " from " + tarball, start);
        return name;
    }

    private static void bootstrap(String suite, RunnerSettings settings, Path tarball) {
        String mirror = settings.debianMirror() != null ? settings.debianMirror() : AptMirror.forSuite(Path.of("/etc/apt"), suite);
        long start = System.nanoTime();
        Path root = null;
        try {
            Files.createDirectories(settings.cache());
            root = Files.createTempDirectory(settings.cache(), "rootfs-");
            HostCommand.run("debootstrap of Debian " + suite + " (needs root and the debootstrap package: apt-get install debootstrap)",
                    List.of("debootstrap", "--variant=minbase", suite, root.toString(), mirror));
            Path partial = Files.createTempFile(settings.cache(), "debian-", ".tar.partial");
            // The downloaded .debs are installed and the package lists stale by the next run: the image need not carry them.
            HostCommand.run("packing the Debian base", List.of("tar", "-C", root.toString(), "--exclude=./var/cache/apt/archives/*.deb",
                    "--exclude=./var/lib/apt/lists/*", "-c", "-f", partial.toString(), "."));
            Files.move(partial, tarball, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException("cannot make the Debian base in " + settings.cache() + ": " + e.getMessage(), e);
        } finally {
            if (root != null) HostCommand.run("removing the bootstrapped tree", List.of("rm", "-rf", root.toString()));
        }
        Timings.log("debootstrapped Debian " + suite + " from " + mirror + " into " + tarball, start);
    }
}
