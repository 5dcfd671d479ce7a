package dev.kiln.tck.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Image;
import dev.kiln.tck.container.KitImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * A plugin's kit image, built with Testcontainers from a Dockerfile this class writes: the
 * Debian base, the recipe's packages, the linked JRE, the class path and the kit's command. The
 * image is tagged with a hash of everything that goes into it, so an unchanged build finds its
 * image and builds nothing; older images of the same plugin are removed once a new one is built.
 */
final class KitImageBuild {
    static final String HOME = "/opt/kiln", REPORT = HOME + "/out/report.tsv";

    /** A built (or found) image: its name, its size and whether it was already there. */
    record Built(String name, long bytes, boolean reused) {}

    private final KitImage recipe;
    private final String base;
    /** Build-context path to host path, in class path order. */
    private final Map<String, Path> files = new LinkedHashMap<>();
    private final List<String> classPath = new ArrayList<>();

    KitImageBuild(KitImage recipe, String base, Path jre, List<Path> classPathEntries) {
        this.recipe = recipe;
        this.base = base;
        files.put("jre", jre);
        for (Path p : classPathEntries) {
            String name = "cp/" + String.format("%03d-", files.size() - 1) + p.getFileName();
            files.put(name, p);
            classPath.add(HOME + "/" + name);
        }
    }

    String dockerfile() {
        StringBuilder d = new StringBuilder("FROM " + base + "\n");
        if (!recipe.debianPackages().isEmpty()) {
            d.append("RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ")
                    .append(String.join(" ", recipe.debianPackages())).append(" && rm -rf /var/lib/apt/lists/*\n");
        }
        d.append("COPY jre ").append(HOME).append("/jre\n");
        d.append("COPY cp ").append(HOME).append("/cp\n");
        d.append("COPY kit.args ").append(HOME).append("/kit.args\n");
        recipe.environment().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> d.append("ENV ").append(e.getKey()).append("=\"").append(e.getValue().replace("\"", "\\\"")).append("\"\n"));
        d.append("RUN mkdir -p ").append(HOME).append("/out\n");
        d.append("WORKDIR ").append(HOME).append("\n");
        // The image runs its kit by itself too: docker run --rm kiln-kit/PLUGIN:TAG
        d.append("CMD [\"").append(HOME).append("/jre/bin/java\", \"@").append(HOME).append("/kit.args\"]\n");
        return d.toString();
    }

    /** The JVM's argument file: the recipe's options, the class path, KitMain, the report and the test classes. */
    String kitArgs() {
        List<String> args = new ArrayList<>(recipe.jvmOptions());
        args.add("-cp");
        args.add(String.join(":", classPath));
        args.add(KitMain.class.getName());
        args.add(REPORT);
        for (Class<?> t : recipe.tests()) args.add(t.getName());
        return String.join("\n", args) + "\n";
    }

    /** {@code kiln-kit/PLUGIN:HASH}, the hash of the Dockerfile, the arguments and every file's path and bytes. */
    String imageName() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(dockerfile().getBytes(StandardCharsets.UTF_8));
            sha.update(kitArgs().getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, Path> f : files.entrySet()) digest(sha, f.getKey(), f.getValue());
            return "kiln-kit/" + recipe.plugin() + ":" + HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read what goes into the " + recipe.plugin() + " kit image", e);
        }
    }

    private static void digest(MessageDigest sha, String name, Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.walk(root)) {
            all = s.filter(Files::isRegularFile).sorted().toList();
        }
        byte[] buffer = new byte[1 << 16];
        for (Path p : all) {
            sha.update((name + "/" + root.relativize(p) + "\0").getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(p)) {
                for (int n; (n = in.read(buffer)) > 0; ) sha.update(buffer, 0, n);
            }
        }
    }

    Built ensure(DockerClient docker) {
        String name = imageName();
        try {
            return new Built(name, docker.inspectImageCmd(name).exec().getSize(), true);
        } catch (NotFoundException absent) {
            // build it below
        }
        long start = System.nanoTime();
        ImageFromDockerfile image = new ImageFromDockerfile(name, false)
                .withFileFromString("Dockerfile", dockerfile())
                .withFileFromString("kit.args", kitArgs());
        files.forEach(image::withFileFromPath);
        // Only apt needs the network while building; it reaches the mirror as the host does.
        if (!recipe.debianPackages().isEmpty()) image.withBuildImageCmdModifier(cmd -> cmd.withNetworkMode("host"));
        image.get();
        Timings.log("built " + name, start);
        removeOlder(docker, name);
        return new Built(name, docker.inspectImageCmd(name).exec().getSize(), false);
    }

    /** Earlier images of this plugin's kit: each run's image replaces the last, so they do not pile up. */
    private void removeOlder(DockerClient docker, String current) {
        String repository = current.substring(0, current.indexOf(':'));
        for (Image i : docker.listImagesCmd().withReferenceFilter(repository).exec()) {
            if (i.getRepoTags() == null || List.of(i.getRepoTags()).contains(current)) continue;
            try {
                docker.removeImageCmd(i.getId()).exec();
            } catch (RuntimeException e) {
                System.out.println("kiln-tck-containers: kept " + String.join(",", i.getRepoTags()) + ": " + e.getMessage());
            }
        }
    }
}
