package dev.kiln.tck.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.tck.container.KitImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Dockerfile and JVM arguments a recipe becomes, and the content-hashed tag that lets an unchanged build reuse its image. */
class KitImageBuildTest {
    @TempDir Path dir;

    private KitImageBuild build(KitImage recipe) throws IOException {
        Path jre = Files.createDirectories(dir.resolve("jre/bin"));
        Files.writeString(jre.resolve("java"), "#!jre");
        Path classes = Files.createDirectories(dir.resolve("test-classes"));
        Files.writeString(classes.resolve("Kit.class"), "kit");
        Path jar = Files.writeString(dir.resolve("kiln-spi.jar"), "spi");
        return new KitImageBuild(recipe, "kiln/debian:bookworm-minbase", dir.resolve("jre"), List.of(classes, jar));
    }

    @Test void aRecipeWithPackagesAndEnvironment() throws IOException {
        KitImage recipe = KitImage.builder("acme", KitImageBuildTest.class).debianPackages("libgomp1", "libnuma1")
                .environment("ACME_DEVICES", "all").jvmOptions("-Xss4m").build();
        KitImageBuild b = build(recipe);
        String d = b.dockerfile();
        assertTrue(d.startsWith("FROM kiln/debian:bookworm-minbase\nRUN apt-get update"), d);
        assertTrue(d.contains("--no-install-recommends libgomp1 libnuma1 && rm -rf /var/lib/apt/lists/*"), d);
        assertTrue(d.contains("ENV ACME_DEVICES=\"all\"") && d.endsWith("CMD [\"/opt/kiln/jre/bin/java\", \"@/opt/kiln/kit.args\"]\n"), d);
        assertEquals(List.of("-Xss4m", "-cp", "/opt/kiln/cp/000-test-classes:/opt/kiln/cp/001-kiln-spi.jar", KitMain.class.getName(),
                KitImageBuild.REPORT, KitImageBuildTest.class.getName()), b.kitArgs().lines().toList());
        assertTrue(b.imageName().matches("kiln-kit/acme:[0-9a-f]{12}"), b.imageName());
    }

    @Test void noPackagesNoApt() throws IOException {
        assertFalse(build(KitImage.builder("acme", KitImageBuildTest.class).build()).dockerfile().contains("apt-get"));
    }

    @Test void theTagFollowsTheBytesThatGoIn() throws IOException {
        KitImageBuild b = build(KitImage.builder("acme", KitImageBuildTest.class).build());
        String first = b.imageName();
        assertEquals(first, b.imageName(), "same inputs, same image");
        Files.writeString(dir.resolve("test-classes/Kit.class"), "kit, changed");
        assertNotEquals(first, b.imageName(), "a changed class is a new image");
    }
}
