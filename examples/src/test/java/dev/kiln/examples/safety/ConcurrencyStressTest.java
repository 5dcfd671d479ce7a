package dev.kiln.examples.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The threading model under load, in a child JVM so that a native crash is observed rather than
 * taking the test runner down: {@value StressRun#EAGER_THREADS} threads of eager ops and gradient
 * tapes, two trainers, tensors closed while being read, and then the Kiln closed under all of it
 * ({@link StressRun}). {@code -Dkiln.stress.iterations=N} (default 1000 per eager thread) and
 * {@code -Dkiln.stress.rounds=N} (default 10 close-under-load rounds) scale it up.
 */
class ConcurrencyStressTest {
    @TempDir Path dir;

    @Test void concurrentUseNeverCrashesAndMatchesSingleThreadedRuns() throws Exception {
        int iterations = Integer.getInteger("kiln.stress.iterations", 1000);
        int rounds = Integer.getInteger("kiln.stress.rounds", 10);
        Path log = dir.resolve("child.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:ErrorFile=" + dir.resolve("hs_err.log"),
                "-cp", System.getProperty("java.class.path"), StressRun.class.getName(),
                Integer.toString(iterations), Integer.toString(rounds));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = child.waitFor(10, TimeUnit.MINUTES);
        if (!done) child.destroyForcibly().waitFor();
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(done, "the stress run hung (a deadlock or a lost wake-up):\n" + tail(out));
        String crash = Files.exists(dir.resolve("hs_err.log")) ? Files.readString(dir.resolve("hs_err.log")).lines().limit(40).reduce("", (a, b) -> a + b + "\n") : "";
        assertEquals(0, child.exitValue(), "the stress run failed or the JVM died:\n" + tail(out) + crash);
        String ok = out.lines().filter(l -> l.startsWith("OK ")).findFirst().orElseThrow();
        System.out.println("stress: " + ok);
        long eager = Long.parseLong(ok.replaceAll(".*eager=(\\d+).*", "$1"));
        assertTrue(eager >= (long) StressRun.EAGER_THREADS * iterations * 9 / 10, "too few eager results were checked: " + ok);
        assertTrue(ok.contains("trainers=2 "), "both concurrent trainers finished: " + ok);
    }

    private static String tail(String s) throws IOException {
        List<String> lines = s.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }
}
