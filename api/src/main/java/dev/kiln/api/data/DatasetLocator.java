package dev.kiln.api.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds the four IDX files of an MNIST-family dataset. Shared by {@link FashionMnist} and
 * {@link Mnist}; the environment, home and system directory are parameters so tests can point
 * it at empty temporary directories instead of the real machine.
 */
record DatasetLocator(String name, String displayName, int numClasses, Path systemDir, String howToGet) {
    static final String ENV = "KILN_DATASETS";

    /** Loads {@code split}, from {@code explicitDir} only when given, else from the first default place that has it. */
    ImageDataset load(Path explicitDir, Split split, Map<String, String> env, Path home) {
        List<Path> places = new ArrayList<>();
        if (explicitDir != null) {
            // An explicit directory is authoritative: silently falling back elsewhere would hide a
            // typo and could train on a different copy than the user asked for.
            places.add(explicitDir);
        } else {
            places.addAll(defaultPlaces(env, home));
        }
        StringBuilder report = new StringBuilder();
        if (explicitDir == null && (env.get(ENV) == null || env.get(ENV).isBlank())) {
            report.append("\n  $").append(ENV).append('/').append(name).append(": ").append(ENV).append(" is not set");
        }
        for (Path dir : places) {
            Path images = find(dir, split.filePrefix() + "-images-idx3-ubyte");
            Path labels = find(dir, split.filePrefix() + "-labels-idx1-ubyte");
            if (images != null && labels != null) {
                Path cache = DecodedCache.directory(env, home);
                return IdxReader.load(DecodedCache.decoded(images, cache), DecodedCache.decoded(labels, cache), numClasses);
            }
            report.append("\n  ").append(dir).append(": ").append(!Files.isDirectory(dir) ? "no such directory"
                    : images == null && labels == null ? "no " + split.filePrefix() + "-* files"
                    : "missing " + (images == null ? split.filePrefix() + "-images-idx3-ubyte[.gz]"
                                                   : split.filePrefix() + "-labels-idx1-ubyte[.gz]"));
        }
        throw new DatasetException(null, displayName + " " + split.name().toLowerCase() + " split not found. Looked in:"
                + report + "\n" + howToGet);
    }

    /** The first default place that holds both splits, the one {@link #load} would read with no directory given. */
    Path findComplete(Map<String, String> env, Path home) {
        for (Path dir : defaultPlaces(env, home)) {
            boolean all = true;
            for (Split split : Split.values()) {
                all &= find(dir, split.filePrefix() + "-images-idx3-ubyte") != null && find(dir, split.filePrefix() + "-labels-idx1-ubyte") != null;
            }
            if (all) return dir;
        }
        return null;
    }

    /**
     * Where a download goes: {@code $KILN_DATASETS/<name>} when that is set (the user chose where
     * datasets live), else {@code ~/.kiln/datasets/<name>}; both are searched before the system directory.
     */
    Path downloadDir(Map<String, String> env, Path home) {
        String root = env.get(ENV);
        if (root != null && !root.isBlank()) return Path.of(root).resolve(name);
        if (home == null) throw new DatasetException(null, "cannot download " + displayName + ": neither " + ENV + " nor user.home is set");
        return home.resolve(".kiln").resolve("datasets").resolve(name);
    }

    private List<Path> defaultPlaces(Map<String, String> env, Path home) {
        List<Path> places = new ArrayList<>();
        String root = env.get(ENV);
        if (root != null && !root.isBlank()) places.add(Path.of(root).resolve(name));
        if (home != null) places.add(home.resolve(".kiln").resolve("datasets").resolve(name));
        if (systemDir != null) places.add(systemDir);
        return places;
    }

    /** The file {@code base} or {@code base.gz} in {@code dir}, raw first, or null. */
    private static Path find(Path dir, String base) {
        for (String candidate : new String[] {base, base + ".gz"}) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    /** The same dataset with another system directory (tests use an empty one). */
    DatasetLocator withSystemDir(Path dir) { return new DatasetLocator(name, displayName, numClasses, dir, howToGet); }

    static Path userHome() {
        String h = System.getProperty("user.home");
        return h == null || h.isEmpty() ? null : Path.of(h);
    }
}
