package dev.kiln.tck.containers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.spi.ToolProvider;

/**
 * The image's Java: a JRE linked with {@code jlink} from the JDK running the build, so the image
 * needs no Java package and runs the kit on the very JDK that compiled it. Linked once per JDK
 * version and module set into the runner's cache.
 */
final class KitJre {
    /**
     * What the kit needs of the JDK: the JUnit Platform logs through java.logging and reads XML
     * configuration, JavaCPP needs jdk.unsupported, the plugins may use the Vector API, and Kiln
     * records Flight Recorder events and reads management beans.
     */
    static final Set<String> MODULES = Set.of("java.base", "java.logging", "java.management", "java.xml", "jdk.unsupported",
            "jdk.incubator.vector", "jdk.jfr");

    private KitJre() {}

    static Path ensure(Path cache, List<String> extraModules) {
        Set<String> modules = new TreeSet<>(MODULES);
        modules.addAll(extraModules);
        String key = Runtime.version() + "-" + Integer.toHexString(String.join(",", modules).hashCode());
        Path jre = cache.resolve("jre-" + key);
        if (Files.isDirectory(jre)) return jre;
        ToolProvider jlink = ToolProvider.findFirst("jlink").orElseThrow(() -> new IllegalStateException(
                "the Java running the build (" + System.getProperty("java.home") + ") has no jlink: run the build on a JDK, not a JRE"));
        long start = System.nanoTime();
        try {
            Files.createDirectories(cache);
            Path partial = Files.createTempDirectory(cache, "jre-partial-");
            Files.delete(partial); // jlink makes the folder itself
            List<String> args = new ArrayList<>(List.of("--add-modules", String.join(",", modules), "--strip-debug", "--no-header-files",
                    "--no-man-pages", "--compress", "zip-6", "--output", partial.toString()));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
            int rc = jlink.run(print, print, args.toArray(String[]::new));
            if (rc != 0) throw new IllegalStateException("jlink " + String.join(" ", args) + " failed (exit " + rc + "): " + out.toString(StandardCharsets.UTF_8));
            Files.move(partial, jre, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot link a JRE into " + cache + ": " + e.getMessage(), e);
        }
        Timings.log("linked a JRE (" + String.join(",", modules) + ") into " + jre, start);
        return jre;
    }
}
