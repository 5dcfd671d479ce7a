package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two JVMs started the way torchrun starts ranks — {@code RANK}, {@code WORLD_SIZE},
 * {@code MASTER_ADDR}, {@code MASTER_PORT}, no MPI — train the seed MLP over the TCP ring, and one
 * of them killed ends the other with an error naming it. Needs only Fashion-MNIST.
 */
class RingLaunchTest {
    @TempDir Path dir;

    @BeforeAll static void needs() {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")) || System.getenv("KILN_DATASETS") != null,
                "Fashion-MNIST missing: apt-get install dataset-fashion-mnist");
    }

    @Test void twoTorchrunStyleRanksTrainLikeOneProcessWithTheDoubledBatch() throws Exception {
        List<Rank> ranks = launch("--out", dir.resolve("ring").toString(), "--examples", "3200", "--batch", "32");
        for (Rank r : ranks) {
            assertEquals(0, r.exit(), r.output());
            assertTrue(r.output().contains("DONE rank " + r.rank() + " steps 50"), r.output());
        }
        assertTrue(ranks.getFirst().output().contains("collectives over ring"), ranks.getFirst().output());
        DataParallelRun.main(new String[] {"--out", dir.resolve("single").toString(), "--examples", "3200", "--batch", "64"});
        float[] r0 = DataParallelTest.read(dir.resolve("ring/rank-0.bin")), r1 = DataParallelTest.read(dir.resolve("ring/rank-1.bin"));
        assertArrayEquals(r0, r1, "ranks 0 and 1 disagree");
        double max = DataParallelTest.maxRelativeDifference(r0, DataParallelTest.read(dir.resolve("single/rank-0.bin")));
        System.out.printf("ring, 2 ranks x 32 vs 1 x 64 after 50 Adam steps: max relative parameter difference %.3g%n", max);
        assertTrue(max <= 1e-5, "max relative difference " + max);
    }

    @Test void aKilledRankEndsTheOtherWithAnErrorNamingIt() throws Exception {
        long start = System.nanoTime();
        List<Rank> ranks = launch("--out", dir.toString(), "--examples", "3200", "--batch", "32", "--fault", "kill", "--at", "10");
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("ring, SIGKILL of rank 1: rank 0 ended after %.1f s%n", secs);
        Rank zero = ranks.getFirst();
        assertNotEquals(0, zero.exit(), zero.output());
        assertTrue(zero.output().contains("FAILED rank 0") && zero.output().contains("rank 1"), zero.output());
        assertTrue(secs < 30 + 20, "took " + secs + " s");
    }

    private record Rank(int rank, int exit, String output) {}

    private List<Rank> launch(String... args) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<Process> procs = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss4m",
                    "-cp", System.getProperty("java.class.path"), DataParallelRun.class.getName()));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            Map<String, String> env = pb.environment();
            env.keySet().removeIf(k -> k.startsWith("OMPI_") || k.startsWith("PMI_") || k.startsWith("SLURM_"));
            env.putAll(Map.of("RANK", String.valueOf(r), "WORLD_SIZE", "2", "LOCAL_RANK", String.valueOf(r), "LOCAL_WORLD_SIZE", "2",
                    "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", String.valueOf(port)));
            Path log = Files.createTempFile(dir, "rank" + r, ".log");
            logs.add(log);
            procs.add(pb.redirectOutput(log.toFile()).start());
        }
        List<Rank> out = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            Process p = procs.get(r);
            boolean done = p.waitFor(240, TimeUnit.SECONDS);
            if (!done) procs.forEach(Process::destroyForcibly);
            String text = read(logs.get(r));
            System.out.print(text);
            assertTrue(done, "rank " + r + " did not finish in 240 s; output:\n" + text);
            out.add(new Rank(r, p.exitValue(), text));
        }
        return out;
    }

    private static String read(Path p) throws IOException { return Files.readString(p); }
}
