package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two ranks under Open MPI's mpirun, each a JVM running {@link MpiCollectivesMain}. Skipped, with
 * how to enable it, where mpirun.openmpi or libmpi is missing. A hung rank would hang its peer
 * forever (MPI has no timeouts), so the whole job is killed after {@link #TIMEOUT_S}.
 */
class MpiRunTest {
    private static final long TIMEOUT_S = 240;
    private static final int RANKS = 2;

    @Test void everyCollectiveAgreesWithTheReferenceOnTwoRanks() throws Exception {
        String mpirun = onPath("mpirun.openmpi");
        assumeTrue(mpirun != null, "mpirun.openmpi not on PATH: apt-get install openmpi-bin libopenmpi-dev");
        assumeTrue(MpiLibrary.process() instanceof MpiLibrary.Found, () -> MpiLibrary.describeProcess() + ": apt-get install openmpi-bin libopenmpi-dev");

        List<String> command = new ArrayList<>(List.of(mpirun, "--allow-run-as-root", "--oversubscribe", "-np", String.valueOf(RANKS),
                // Shared memory between the two local ranks; no network setup needed.
                "--mca", "btl", "self,vader",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss4m",
                "-cp", System.getProperty("java.class.path"), MpiCollectivesMain.class.getName()));
        Path log = Files.createTempFile("kiln-mpirun", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean finished = p.waitFor(TIMEOUT_S, TimeUnit.SECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String out = Files.readString(log);
            System.out.print(out);
            assertTrue(finished, "mpirun did not finish in " + TIMEOUT_S + " s (killed); output:\n" + out);
            assertEquals(0, p.exitValue(), "mpirun failed; output:\n" + out);
            for (int r = 0; r < RANKS; r++) assertTrue(out.contains("OK rank " + r), "rank " + r + " did not print OK; output:\n" + out);
            assertTrue(out.contains("MPI_Bcast failed: "), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static String onPath(String name) throws IOException {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(dir, name);
            if (f.canExecute()) return f.getPath();
        }
        return null;
    }
}
