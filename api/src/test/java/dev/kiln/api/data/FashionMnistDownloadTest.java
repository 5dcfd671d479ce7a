package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The download path against a local HTTP server: good, corrupt, truncated and missing files. */
class FashionMnistDownloadTest {
    @TempDir Path tmp;
    HttpServer server;
    final Map<String, byte[]> served = new ConcurrentHashMap<>();
    final AtomicInteger requests = new AtomicInteger();
    /** The tiny dataset's gzipped files and the SHA-256 of their content, as FashionMnist.SHA256 has the real ones. */
    final Map<String, byte[]> gz = new HashMap<>();
    final Map<String, String> sha = new HashMap<>();

    @BeforeEach void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            byte[] body = served.get(ex.getRequestURI().getPath().replaceFirst("^/mirror/", ""));
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) { out.write(body); }
            }
            ex.close();
        });
        server.start();
        Path src = tmp.resolve("src");
        IdxFiles.writeDataset(src, 12, 4);
        for (String f : FashionMnist.SHA256.keySet()) {
            byte[] bytes = Files.readAllBytes(src.resolve(f));
            gz.put(f, bytes);
            sha.put(f, hex(DatasetDownload.sha256().digest(gunzip(bytes))));
        }
    }

    @AfterEach void stop() { server.stop(0); }

    URI base() { return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/mirror"); }

    static byte[] gunzip(byte[] gz) throws IOException {
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz))) { return in.readAllBytes(); }
    }

    static String hex(byte[] b) { return java.util.HexFormat.of().formatHex(b); }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) { return s.map(p -> p.getFileName().toString()).sorted().toList(); }
    }

    @Test void downloadsVerifiesAndRenamesEachFileIntoPlace() throws Exception {
        served.putAll(gz);
        Path dir = tmp.resolve("home/.kiln/datasets/fashion-mnist");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        DatasetDownload.fetch("Fashion-MNIST", base(), sha, dir, new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                names(dir), "the four files and nothing else (no temporaries)");
        for (String f : gz.keySet()) assertArrayEquals(gz.get(f), Files.readAllBytes(dir.resolve(f)), f);
        assertEquals(12, FashionMnist.LOCATOR.load(dir, Split.TRAIN, Map.of(), null).size());
        assertEquals(dir, FashionMnist.LOCATOR.withSystemDir(null).findComplete(Map.of(), tmp.resolve("home")));
        String progress = err.toString(StandardCharsets.UTF_8);
        assertTrue(progress.contains("train-images-idx3-ubyte.gz") && progress.contains("100%") && progress.contains("\r"), progress);

        int before = requests.get();
        DatasetDownload.fetch("Fashion-MNIST", base(), sha, dir, null);
        assertEquals(before, requests.get(), "files already there are not fetched again");
    }

    @Test void aCorruptFileFailsItsChecksumAndNothingOfItIsLeft() throws Exception {
        served.putAll(gz);
        byte[] content = gunzip(gz.get("train-images-idx3-ubyte.gz"));
        content[content.length - 1] ^= 1; // a valid gzip of slightly different content
        served.put("train-images-idx3-ubyte.gz", IdxFiles.gzip(content));
        Path dir = tmp.resolve("dl");
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetDownload.fetch("Fashion-MNIST", base(), sha, dir, null));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz") && e.getMessage().contains("SHA-256")
                && e.getMessage().contains(sha.get("train-images-idx3-ubyte.gz")), e.getMessage());
        // Files are fetched in name order: the two test files were verified before the corrupt one and stay.
        assertEquals(List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"), names(dir));

        served.put("train-images-idx3-ubyte.gz", gz.get("train-images-idx3-ubyte.gz"));
        DatasetDownload.fetch("Fashion-MNIST", base(), sha, dir, null);
        assertEquals(4, names(dir).size(), "a retry completes the set");
    }

    @Test void aTruncatedFileIsRejected() throws Exception {
        served.putAll(gz);
        byte[] whole = gz.get("t10k-labels-idx1-ubyte.gz");
        served.put("t10k-labels-idx1-ubyte.gz", Arrays.copyOf(whole, whole.length / 2));
        Path dir = tmp.resolve("dl");
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetDownload.fetch("Fashion-MNIST", base(), sha, dir, null));
        assertTrue(e.getMessage().contains("t10k-labels-idx1-ubyte.gz") && e.getMessage().contains("not a complete gzip file"), e.getMessage());
        assertEquals(List.of("t10k-images-idx3-ubyte.gz"), names(dir));
    }

    @Test void aMissingFileNamesTheUrlAndTheHttpStatus() throws Exception {
        Path dir = tmp.resolve("dl");
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetDownload.fetch("Fashion-MNIST", base(), sha, dir, null));
        assertTrue(e.getMessage().contains(base() + "/t10k-images-idx3-ubyte.gz") && e.getMessage().contains("HTTP 404"), e.getMessage());
        assertEquals(List.of(), names(dir));
    }

    @Test void theRealChecksumsRejectOtherDataAndTheMessageSaysHowElseToGetIt() throws Exception {
        served.putAll(gz);
        Path dir = tmp.resolve("dl");
        DatasetException e = assertThrows(DatasetException.class,
                () -> FashionMnist.download(dir, Map.of("KILN_FASHION_MNIST_URL", base().toString()), null));
        String m = e.getMessage();
        assertTrue(m.contains("could not be downloaded into " + dir) && m.contains("SHA-256"), m);
        assertTrue(m.contains("sudo apt-get install dataset-fashion-mnist") && m.contains("KILN_DATASETS"), m);
        assertEquals(List.of(), names(dir));
    }

    @Test void anUnreachableServerFailsWithTheHowTo() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) { port = s.getLocalPort(); }
        Path dir = tmp.resolve("dl");
        DatasetException e = assertThrows(DatasetException.class,
                () -> FashionMnist.download(dir, Map.of("KILN_FASHION_MNIST_URL", "http://127.0.0.1:" + port + "/"), null));
        assertTrue(e.getMessage().contains("127.0.0.1:" + port) && e.getMessage().contains("Connect"), e.getMessage());
        assertTrue(e.getMessage().contains("sudo apt-get install dataset-fashion-mnist"), e.getMessage());
        assertEquals(List.of(), names(dir));
    }

    @Test void theSystemPropertyOverridesTheEnvironmentWhichOverridesTheDefault() {
        String old = System.getProperty(FashionMnist.URL_PROPERTY);
        try {
            System.clearProperty(FashionMnist.URL_PROPERTY);
            assertEquals(URI.create(FashionMnist.DEFAULT_URL), DatasetDownload.baseUrl(FashionMnist.URL_PROPERTY, FashionMnist.URL_ENV, Map.of(), FashionMnist.DEFAULT_URL));
            assertEquals(URI.create("http://env/"), DatasetDownload.baseUrl(FashionMnist.URL_PROPERTY, FashionMnist.URL_ENV,
                    Map.of("KILN_FASHION_MNIST_URL", "http://env/"), FashionMnist.DEFAULT_URL));
            System.setProperty(FashionMnist.URL_PROPERTY, "file:///mirror/");
            assertEquals(URI.create("file:///mirror/"), DatasetDownload.baseUrl(FashionMnist.URL_PROPERTY, FashionMnist.URL_ENV,
                    Map.of("KILN_FASHION_MNIST_URL", "http://env/"), FashionMnist.DEFAULT_URL));
            System.setProperty(FashionMnist.URL_PROPERTY, "not a url");
            DatasetException e = assertThrows(DatasetException.class,
                    () -> DatasetDownload.baseUrl(FashionMnist.URL_PROPERTY, FashionMnist.URL_ENV, Map.of(), FashionMnist.DEFAULT_URL));
            assertTrue(e.getMessage().contains("-Dkiln.fashionMnist.url"), e.getMessage());
        } finally {
            if (old == null) System.clearProperty(FashionMnist.URL_PROPERTY);
            else System.setProperty(FashionMnist.URL_PROPERTY, old);
        }
    }

    @Test void aFileUrlMirrorWorksToo() throws Exception {
        Path mirror = tmp.resolve("mirror");
        for (var e : gz.entrySet()) IdxFiles.write(mirror.resolve(e.getKey()), e.getValue());
        Path dir = tmp.resolve("dl");
        DatasetDownload.fetch("Fashion-MNIST", mirror.toUri(), sha, dir, null);
        assertEquals(4, names(dir).size());
    }

    @Test void downloadsGoUnderKilnDatasetsWhenSetElseUnderHome() {
        DatasetLocator loc = FashionMnist.LOCATOR;
        assertEquals(tmp.resolve("d/fashion-mnist"), loc.downloadDir(Map.of("KILN_DATASETS", tmp.resolve("d").toString()), tmp.resolve("h")));
        assertEquals(tmp.resolve("h/.kiln/datasets/fashion-mnist"), loc.downloadDir(Map.of(), tmp.resolve("h")));
        assertNull(loc.withSystemDir(tmp.resolve("none")).findComplete(Map.of(), tmp.resolve("h")), "nothing there yet");
        IdxFiles.writeDataset(tmp.resolve("h/.kiln/datasets/fashion-mnist"), 3, 2);
        assertEquals(tmp.resolve("h/.kiln/datasets/fashion-mnist"), loc.withSystemDir(tmp.resolve("none")).findComplete(Map.of(), tmp.resolve("h")));
    }

    @Test void theProgressLineShowsABarWhenTheSizeIsKnown() {
        var out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        String known = new DatasetDownload.Progress(out, "f.gz", 2_000_000).line(1_000_000, System.nanoTime());
        assertTrue(known.startsWith("f.gz  [===============               ]  50%  1.0/2.0 MB  "), known);
        String unknown = new DatasetDownload.Progress(out, "f.gz", -1).line(1_500_000, System.nanoTime());
        assertTrue(unknown.startsWith("f.gz  1.5 MB  ") && unknown.endsWith("MB/s"), unknown);
        String small = new DatasetDownload.Progress(out, "f.gz", 5125).line(5125, System.nanoTime());
        assertTrue(small.contains("100%  5.1/5.1 kB  "), small);
    }

    @Test void theKnownChecksumsMatchDebiansPackage() throws Exception {
        Path debian = Path.of("/usr/share/datasets/fashion-mnist");
        Assumptions.assumeTrue(Files.isDirectory(debian), "dataset-fashion-mnist is not installed");
        for (var e : FashionMnist.SHA256.entrySet()) {
            assertEquals(e.getValue(), DatasetDownload.sha256OfGunzipped(debian.resolve(e.getKey())), e.getKey());
        }
    }
}
