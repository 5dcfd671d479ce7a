package dev.kiln.tck.containers;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What goes on the image's class path: the test class path of the build running the runner,
 * which is exactly the plugin, its dependencies (native jars included), its kit subclass and
 * the kit; and the recipe's extra native artifacts, read from the local Maven repository.
 */
final class KitClassPath {
    private KitClassPath() {}

    /** Surefire runs tests from a manifest-only jar and passes the real class path in {@code surefire.test.class.path}. */
    static List<Path> ofThisBuild() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<Path> entries = new ArrayList<>();
        for (String e : cp.split(File.pathSeparator)) {
            if (e.isBlank()) continue;
            Path p = Path.of(e).toAbsolutePath();
            if (Files.exists(p) && !entries.contains(p)) entries.add(p);
        }
        return entries;
    }

    /** The jar of {@code group:artifact:version[:classifier]} in {@code repository}, if it is there. */
    static Optional<Path> artifact(Path repository, String coordinates) {
        String[] c = coordinates.split(":");
        String file = c[1] + "-" + c[2] + (c.length == 4 ? "-" + c[3] : "") + ".jar";
        Path jar = repository.resolve(c[0].replace('.', '/')).resolve(c[1]).resolve(c[2]).resolve(file);
        return Files.isRegularFile(jar) ? Optional.of(jar) : Optional.empty();
    }
}
