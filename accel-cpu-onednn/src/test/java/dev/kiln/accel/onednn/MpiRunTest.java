package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two ranks, each a JVM running {@link MpiCollectivesMain}, under Open MPI's mpirun and under
 * MPICH's Hydra. Each case is skipped, with how to enable it, where its launcher or library is
 * missing. A hung rank would hang its peer forever (MPI has no timeouts), so the whole job is
 * killed after {@link #TIMEOUT_S}.
 */
class MpiRunTest {
    private static final long TIMEOUT_S = 240;
    private static final int RANKS = 2;
    private static final String OPEN_MPI_HOW = "apt-get install openmpi-bin libopenmpi-dev";
    private static final String MPICH_HOW = "apt-get install mpich libmpich-dev";

    @Test void everyCollectiveAgreesWithTheReferenceOnTwoRanks() throws Exception {
        String mpirun = onPath("mpirun.openmpi");
        assumeTrue(mpirun != null, "mpirun.openmpi not on PATH: " + OPEN_MPI_HOW);
        assumeTrue(MpiLibrary.process() instanceof MpiLibrary.Found, () -> MpiLibrary.describeProcess() + ": " + OPEN_MPI_HOW);

        String out = run(List.of(mpirun, "--allow-run-as-root", "--oversubscribe", "-np", String.valueOf(RANKS),
                // Shared memory between the two local ranks; no network setup needed.
                "--mca", "btl", "self,vader"), false);
        assertTrue(out.contains("rank 0: MPI: Open MPI "), out);
    }

    /**
     * The same main under MPICH's mpiexec, with KILN_MPI_LIBRARY removed: the ranks must pick
     * MPICH's library by themselves from Hydra's PMI_RANK/PMI_SIZE even where Open MPI is installed
     * too (Open MPI's library would make each rank a world of one).
     */
    @Test void everyCollectiveAgreesWithTheReferenceOnTwoRanksUnderMpich() throws Exception {
        String mpiexec = onPath("mpirun.mpich");
        if (mpiexec == null) mpiexec = onPath("mpiexec.hydra");
        assumeTrue(mpiexec != null, "neither mpirun.mpich nor mpiexec.hydra on PATH: " + MPICH_HOW);
        MpiLibrary.Search search = MpiLibrary.search(null, Map.of("PMI_RANK", "0", "PMI_SIZE", String.valueOf(RANKS)));
        assumeTrue(search instanceof MpiLibrary.Found f && f.library().implementation() == MpiLibrary.Implementation.MPICH,
                () -> "MPICH's library did not load under Hydra's variables (" + describe(search) + "): " + MPICH_HOW);

        // Hydra takes no --allow-run-as-root or --mca; local ranks talk over shared memory by default.
        String out = run(List.of(mpiexec, "-np", String.valueOf(RANKS)), true);
        assertTrue(out.contains("rank 0: MPI: MPICH "), out);
        assertTrue(out.contains("Hydra"), out);
    }

    private static String run(List<String> launcher, boolean withoutOverride) throws Exception {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss4m",
                "-cp", System.getProperty("java.class.path"), MpiCollectivesMain.class.getName()));
        Path log = Files.createTempFile("kiln-mpirun", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            if (withoutOverride) pb.environment().remove(MpiLibrary.ENV);
            Process p = pb.start();
            boolean finished = p.waitFor(TIMEOUT_S, TimeUnit.SECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String out = Files.readString(log);
            System.out.print(out);
            assertTrue(finished, launcher.getFirst() + " did not finish in " + TIMEOUT_S + " s (killed); output:\n" + out);
            assertEquals(0, p.exitValue(), launcher.getFirst() + " failed; output:\n" + out);
            for (int r = 0; r < RANKS; r++) assertTrue(out.contains("OK rank " + r), "rank " + r + " did not print OK; output:\n" + out);
            assertTrue(out.contains("MPI_Bcast failed: "), out);
            // UCX's handler, had it stayed in place, prints this when the JVM takes a deliberate fault.
            assertTrue(!out.contains("Caught signal"), "a native signal handler caught one of the JVM's signals; output:\n" + out);
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static String describe(MpiLibrary.Search search) {
        return switch (search) {
            case MpiLibrary.Found f -> f.library().describe();
            case MpiLibrary.NotFound n -> n.message();
        };
    }

    private static String onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(dir, name);
            if (f.canExecute()) return f.getPath();
        }
        return null;
    }
}
