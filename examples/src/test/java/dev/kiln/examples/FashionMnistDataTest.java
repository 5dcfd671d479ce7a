package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.data.DatasetException;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistDataTest {
    @TempDir Path tmp;

    /** Records the steps taken; the package "installs" the data when {@code aptWorks}. */
    static final class Fake implements FashionMnistData.Machine {
        final List<String> steps = new ArrayList<>();
        final boolean root, aptWorks, downloadWorks;
        Path location;

        Fake(Path location, boolean root, boolean aptWorks, boolean downloadWorks) {
            this.location = location;
            this.root = root;
            this.aptWorks = aptWorks;
            this.downloadWorks = downloadWorks;
        }

        @Override public Optional<Path> location() { return Optional.ofNullable(location); }

        @Override public boolean canInstallPackages() { return root; }

        @Override public int installPackage() {
            steps.add("apt");
            if (!aptWorks) return 100;
            location = Path.of("/usr/share/datasets/fashion-mnist");
            return 0;
        }

        @Override public Path download() {
            steps.add("download");
            if (!downloadWorks) throw new DatasetException(null, "Fashion-MNIST could not be downloaded: offline\nTo get it, do one of: ...");
            return Path.of("/home/u/.kiln/datasets/fashion-mnist");
        }
    }

    final ByteArrayOutputStream log = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);

    @Test void dataAlreadyThereIsUsedAsIs() {
        Fake m = new Fake(Path.of("/data"), true, true, true);
        assertEquals(Path.of("/data"), FashionMnistData.ensure(m, out));
        assertEquals(List.of(), m.steps);
    }

    @Test void asRootTheDebianPackageComesFirst() {
        Fake m = new Fake(null, true, true, true);
        assertEquals(Path.of("/usr/share/datasets/fashion-mnist"), FashionMnistData.ensure(m, out));
        assertEquals(List.of("apt"), m.steps);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("dataset-fashion-mnist"));
    }

    @Test void whenAptFailsTheFilesAreDownloaded() {
        Fake m = new Fake(null, true, false, true);
        assertEquals(Path.of("/home/u/.kiln/datasets/fashion-mnist"), FashionMnistData.ensure(m, out));
        assertEquals(List.of("apt", "download"), m.steps);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("exit status 100"), log.toString(StandardCharsets.UTF_8));
    }

    @Test void withoutRootNothingIsInstalled() {
        Fake m = new Fake(null, false, true, true);
        FashionMnistData.ensure(m, out);
        assertEquals(List.of("download"), m.steps);
    }

    @Test void whenNothingWorksTheProgramPrintsTheMessageAndFailsWithoutAStackTrace() {
        Fake m = new Fake(null, false, false, false);
        assertThrows(DatasetException.class, () -> FashionMnistData.ensure(m, out));
        int status = FashionMnistData.run(() -> FashionMnistData.ensure(m, out), out);
        assertEquals(1, status);
        String s = log.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("could not be downloaded: offline") && s.contains("To get it"), s);
        assertFalse(s.contains("DatasetException") || s.contains("\tat "), s);
        assertEquals(0, FashionMnistData.run(() -> {}, out));
    }

    /**
     * The README's first command on a machine without the data, no root (no apt-get on the PATH)
     * and no network: the example must print how to get the data and exit 1, with no stack trace.
     * Only where Debian's package is not installed, as the locator would find it there.
     */
    @Test void theExampleWithoutDataOrNetworkSaysHowToGetIt() throws Exception {
        Assumptions.assumeFalse(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")),
                "dataset-fashion-mnist is installed, so the example would find it");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) { port = s.getLocalPort(); }
        Path home = Files.createDirectories(tmp.resolve("home")), emptyPath = Files.createDirectories(tmp.resolve("bin"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Duser.home=" + home, "-cp", System.getProperty("java.class.path"), FashionMnistMlp.class.getName(), "--epochs", "1");
        pb.environment().remove("KILN_DATASETS");
        pb.environment().put("HOME", home.toString());
        pb.environment().put("PATH", emptyPath.toString());
        pb.environment().put("KILN_FASHION_MNIST_URL", "http://127.0.0.1:" + port + "/");
        pb.redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the example did not finish");
        String output = Files.readString(tmp.resolve("out.txt"));
        assertEquals(1, p.exitValue(), output);
        assertTrue(output.contains("sudo apt-get install dataset-fashion-mnist") && output.contains(home + File.separator + ".kiln"), output);
        assertTrue(output.contains("127.0.0.1:" + port), "names the URL it tried: " + output);
        assertFalse(output.contains("Exception in thread") || output.contains("\tat "), output);
        try (var files = Files.walk(home)) {
            assertTrue(files.filter(Files::isRegularFile).findAny().isEmpty(), "nothing partial is left in ~/.kiln");
        }
    }

    @Test void rootIsRecognised() throws IOException {
        Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        assertEquals(Integer.valueOf(0).equals(uid), FashionMnistData.ThisMachine.isRoot());
    }
}
