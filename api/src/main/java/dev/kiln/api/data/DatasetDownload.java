package dev.kiln.api.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Fetches the gzipped files of a dataset from a base URL into a directory, each checked against
 * the SHA-256 of its <em>decompressed</em> content before it gets its final name.
 *
 * <p>The content, not the .gz bytes, is what is pinned: the same data is published gzipped more
 * than once (Debian's package recompresses Zalando's files, so their .gz bytes differ while the IDX
 * bytes are identical), and a mirror holding either copy should pass. The gzip trailer's CRC and
 * length are checked on the way, so a truncated file fails too.
 *
 * <p>Each file is written to a hidden temporary name in the target directory and renamed into
 * place only once verified, so the locator never sees a partial or unverified file, and a failed
 * download leaves nothing behind. Plain {@link URLConnection}s (java.base only): http, https and
 * file URLs all work, and the JDK's proxy settings apply.
 */
final class DatasetDownload {
    static final int CONNECT_TIMEOUT_MS = 30_000, READ_TIMEOUT_MS = 60_000;

    private DatasetDownload() {}

    /**
     * Downloads each of {@code sha256.keySet()} that {@code dir} lacks (neither the file nor its
     * decompressed name exists) from {@code base}; the values are the SHA-256 of each file's
     * decompressed content, in hex. Progress goes to {@code progress} unless null.
     *
     * @throws DatasetException naming the URL and what went wrong; files already verified stay
     */
    static void fetch(String displayName, URI base, Map<String, String> sha256, Path dir, PrintStream progress) {
        URI root = base.toString().endsWith("/") ? base : URI.create(base + "/");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DatasetException(dir, "cannot create the directory for " + displayName + ": " + e, e);
        }
        for (var entry : sha256.entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            String file = entry.getKey();
            Path target = dir.resolve(file);
            if (Files.isRegularFile(target) || Files.isRegularFile(dir.resolve(stripGz(file)))) continue;
            fetchOne(root.resolve(file), entry.getValue(), target, progress);
        }
    }

    private static void fetchOne(URI url, String expected, Path target, PrintStream progress) {
        String name = target.getFileName().toString();
        // Not Files.createTempFile: its files are owner-only, and a dataset shared by the users of a
        // machine should get the same permissions as any other file written here.
        Path part = target.resolveSibling("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".part");
        try {
            try {
                download(url, part, name, progress);
                String actual = sha256OfGunzipped(part);
                if (!actual.equalsIgnoreCase(expected)) {
                    throw new DatasetException(null, url + ": the SHA-256 of the decompressed content is " + actual + ", expected "
                            + expected + " (a corrupt or different file); nothing was kept");
                }
                try {
                    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(part);
            }
        } catch (ZipException | EOFException e) {
            throw new DatasetException(null, url + ": not a complete gzip file (" + e.getMessage() + "); nothing was kept", e);
        } catch (IOException e) {
            throw new DatasetException(null, url + ": " + e + "; nothing was kept", e);
        }
    }

    private static void download(URI url, Path part, String name, PrintStream progress) throws IOException {
        URLConnection c = url.toURL().openConnection();
        c.setConnectTimeout(CONNECT_TIMEOUT_MS);
        c.setReadTimeout(READ_TIMEOUT_MS);
        c.setRequestProperty("User-Agent", "kiln");
        try {
            if (c instanceof HttpURLConnection http) {
                int code = http.getResponseCode();
                if (code != HttpURLConnection.HTTP_OK) throw new IOException("HTTP " + code + " " + http.getResponseMessage());
            }
            long total = c.getContentLengthLong(), received = 0;
            Progress bar = progress == null ? null : new Progress(progress, name, total);
            try (InputStream in = c.getInputStream();
                 OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    received += n;
                    if (bar != null) bar.update(received);
                }
            }
            if (bar != null) bar.done(received);
            if (total >= 0 && received != total) throw new IOException("truncated: received " + received + " of " + total + " bytes");
        } finally {
            if (c instanceof HttpURLConnection http) http.disconnect();
        }
    }

    static String sha256OfGunzipped(Path file) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16), 1 << 16)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    private static String stripGz(String file) { return file.endsWith(".gz") ? file.substring(0, file.length() - 3) : file; }

    /** The base URL from a system property, else an environment variable, else the default. */
    static URI baseUrl(String property, String envVar, Map<String, String> env, String fallback) {
        String v = System.getProperty(property);
        String from = "-D" + property;
        if (v == null || v.isBlank()) {
            v = env.get(envVar);
            from = envVar;
        }
        if (v == null || v.isBlank()) return URI.create(fallback);
        try {
            URI u = new URI(v.strip());
            if (!u.isAbsolute()) throw new URISyntaxException(v, "not an absolute URL");
            return u;
        } catch (URISyntaxException e) {
            throw new DatasetException(null, from + "=" + v + " is not a URL: " + e.getMessage(), e);
        }
    }

    /**
     * One line on stderr, redrawn with a carriage return at most ten times a second: a bar when
     * the size is known, else the bytes so far.
     */
    static final class Progress {
        private static final int WIDTH = 30;
        private final PrintStream out;
        private final String name;
        private final long total, start = System.nanoTime();
        private long last = Long.MIN_VALUE;

        Progress(PrintStream out, String name, long total) {
            this.out = out;
            this.name = name;
            this.total = total;
        }

        void update(long received) {
            long now = System.nanoTime();
            if (now - last < 100_000_000L) return;
            last = now;
            out.print("\r" + line(received, now));
            out.flush();
        }

        void done(long received) {
            out.print("\r" + line(received, System.nanoTime()) + "\n");
            out.flush();
        }

        String line(long received, long now) {
            double secs = Math.max(1e-9, (now - start) / 1e9);
            String rate = String.format(Locale.ROOT, "%.1f MB/s", received / 1e6 / secs);
            // kB for the label files (5 and 29 kB), which would otherwise read "0.0/0.0 MB".
            boolean mb = (total > 0 ? total : received) >= 1_000_000;
            double unit = mb ? 1e6 : 1e3;
            String u = mb ? "MB" : "kB";
            if (total <= 0) return String.format(Locale.ROOT, "%s  %.1f %s  %s", name, received / unit, u, rate);
            double f = Math.min(1, (double) received / total);
            int filled = (int) Math.round(f * WIDTH);
            return String.format(Locale.ROOT, "%s  [%s%s] %3d%%  %.1f/%.1f %s  %s", name, "=".repeat(filled), " ".repeat(WIDTH - filled),
                    Math.round(f * 100), received / unit, total / unit, u, rate);
        }
    }
}
