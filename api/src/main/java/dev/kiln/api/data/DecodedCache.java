package dev.kiln.api.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Decompressed copies of gzipped dataset files, so that every run after the first reads raw
 * bytes instead of inflating them again (Fashion-MNIST's 26 MB of training images took about a
 * quarter of a second to inflate here, of a start-up the issue wants under one).
 *
 * <p>The copies live in {@code $KILN_CACHE/datasets}, or {@code -Dkiln.cache}, or
 * {@code ~/.kiln/cache/datasets}; {@code off} in either setting turns the cache off. A copy is
 * named by a digest of its source's absolute path, size and modification time, so a source that
 * changes is never served stale. It is inflated into a temporary file and moved into place only
 * once the whole stream inflated with its checksum verified, so a crash, a full disk or two
 * processes decoding at once (the ranks of a job) never leave a partial copy under the final
 * name. The cache is only ever a shortcut: when a copy cannot be made, the source is read, and a
 * corrupt source reaches {@link IdxReader} to be reported as such.
 */
final class DecodedCache {
    static final String ENV = "KILN_CACHE", PROPERTY = "kiln.cache", OFF = "off";

    private DecodedCache() {}

    /** Where copies go for this environment and home, or null when caching is off or there is nowhere to put them. */
    static Path directory(Map<String, String> env, Path home) {
        String chosen = System.getProperty(PROPERTY);
        if (chosen == null || chosen.isBlank()) chosen = env.get(ENV);
        if (chosen != null && !chosen.isBlank()) return OFF.equalsIgnoreCase(chosen.strip()) ? null : Path.of(chosen).resolve("datasets");
        return home == null ? null : home.resolve(".kiln").resolve("cache").resolve("datasets");
    }

    /** A raw copy of {@code file} when it is gzipped and a copy exists or can be made in {@code dir}; else {@code file} itself. */
    static Path decoded(Path file, Path dir) {
        if (dir == null) return file;
        try {
            if (!isGzip(file)) return file;
            Path copy = dir.resolve(key(file) + "-" + rawName(file));
            if (Files.isRegularFile(copy)) return copy;
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, rawName(file), ".partial");
            try {
                try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16); OutputStream out = Files.newOutputStream(tmp)) {
                    in.transferTo(out);
                }
                Files.move(tmp, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return copy;
        } catch (IOException | RuntimeException e) {
            return file;
        }
    }

    private static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }

    private static String rawName(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    }

    /** 16 hex digits of SHA-256 over the source's absolute path, size and modification time. */
    private static String key(Path file) throws IOException {
        String id = file.toAbsolutePath().normalize() + "\n" + Files.size(file) + "\n" + Files.getLastModifiedTime(file).toMillis();
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
