package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training of the seed MLP on two processes under Open MPI's {@code mpirun} on
 * loopback, against one process with the doubled batch, and the faults a job must survive: a rank
 * killed (SIGKILL), a rank stopped (SIGSTOP), and a checkpoint of two ranks resumed on one. Needs
 * {@code mpirun.openmpi} ({@code apt-get install openmpi-bin libopenmpi-dev}) and Fashion-MNIST
 * ({@code apt-get install dataset-fashion-mnist}); skipped with that reason otherwise.
 */
class DataParallelTest {
    private static final long JOB_TIMEOUT_S = 240;
    private static String mpirun;

    @TempDir Path dir;

    @BeforeAll static void needs() {
        mpirun = onPath("mpirun.openmpi");
        assumeTrue(mpirun != null, "mpirun.openmpi not on PATH: apt-get install openmpi-bin libopenmpi-dev");
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")) || System.getenv("KILN_DATASETS") != null,
                "Fashion-MNIST missing: apt-get install dataset-fashion-mnist");
    }

    /** 50 steps: 2 ranks x batch 32 against 1 process x batch 64 on the same examples in the same order. */
    @Test void twoRanksTrainLikeOneProcessWithTheDoubledBatch() throws Exception {
        String opt = System.getProperty("ddp.optimizer", "adam");
        Job job = mpi("--out", dir.resolve("ddp").toString(), "--examples", "3200", "--batch", "32", "--optimizer", opt);
        assertEquals(0, job.exit, job.output);
        assertTrue(job.output.contains("DONE rank 0 steps 50") && job.output.contains("DONE rank 1 steps 50"), job.output);

        DataParallelRun.main(new String[] {"--out", dir.resolve("single").toString(), "--examples", "3200", "--batch", "64", "--optimizer", opt});

        float[] r0 = read(dir.resolve("ddp/rank-0.bin")), r1 = read(dir.resolve("ddp/rank-1.bin"));
        float[] single = read(dir.resolve("single/rank-0.bin"));
        // Every rank applies the same averaged gradients to the same parameters: the same bits.
        assertArrayEquals(r0, r1, "ranks 0 and 1 disagree");
        double max = maxRelativeDifference(r0, single);
        System.out.printf("2 ranks x 32 vs 1 x 64 after 50 %s steps: max relative parameter difference %.3g, relative norm of the difference %.3g%n",
                opt, max, relativeNorm(r0, single));
        // Only float rounding differs: the mean of two half-batch means against one mean of 64.
        assertTrue(max <= 1e-5, "max relative difference " + max);
    }

    /** Accumulating 2 micro-batches per step on each rank: the all-reduce runs once per step, and training matches batch 128. */
    @Test void accumulationAcrossRanksMatchesTheWholeBatch() throws Exception {
        Job job = mpi("--out", dir.resolve("acc").toString(), "--examples", "1280", "--batch", "32", "--accumulation", "2", "--optimizer", "sgd");
        assertEquals(0, job.exit, job.output);
        assertTrue(job.output.contains("DONE rank 0 steps 10"), job.output);
        DataParallelRun.main(new String[] {"--out", dir.resolve("big").toString(), "--examples", "1280", "--batch", "128", "--optimizer", "sgd"});
        float[] r0 = read(dir.resolve("acc/rank-0.bin")), r1 = read(dir.resolve("acc/rank-1.bin"));
        assertArrayEquals(r0, r1);
        // Step s sums positions [128 s, 128 s + 128) of the epoch's permutation either way. SGD, because Adam amplifies
        // rounding in its first steps (see GradientAccumulationTest).
        double max = maxRelativeDifference(r0, read(dir.resolve("big/rank-0.bin")));
        System.out.printf("max relative difference, 2 ranks x 2 micro-batches of 32 vs 1 x 128: %.3g%n", max);
        assertTrue(max <= 1e-5, "max relative difference " + max);
    }

    @Test void aKilledRankEndsTheJobWithin30Seconds() throws Exception {
        Job job = mpi("--out", dir.toString(), "--examples", "3200", "--batch", "32", "--fault", "kill", "--at", "10");
        System.out.printf("SIGKILL of rank 1: the job ended after %.1f s%n", job.seconds);
        assertNotEquals(0, job.exit, job.output);
        assertTrue(job.output.contains("signal 9") || job.output.contains("Killed") || job.output.contains("FAILED rank 0"), job.output);
        assertTrue(job.seconds < 30 + 20, "took " + job.seconds + " s; output:\n" + job.output);
    }

    @Test void aStoppedRankMakesTheOthersFailWithinTheTimeout() throws Exception {
        Job job = mpi("--out", dir.toString(), "--examples", "3200", "--batch", "32", "--fault", "stop", "--at", "10", "--timeout-s", "5");
        System.out.printf("SIGSTOP of rank 1, collective timeout 5 s: the job ended after %.1f s%n", job.seconds);
        assertNotEquals(0, job.exit, job.output);
        assertTrue(job.output.contains("FAILED rank 0: ProcessGroupTimeoutException"), job.output);
        assertTrue(job.output.contains("rank 1 (last seen at #"), job.output);
        assertTrue(job.seconds < 5 + 30 + 20, "took " + job.seconds + " s; output:\n" + job.output);
    }

    /** Saved by two ranks after one epoch (50 steps of 2 x 32), resumed by one process for a second epoch (100 steps of 32). */
    @Test void aCheckpointOfTwoRanksResumesOnOne() throws Exception {
        Path ckpt = dir.resolve("two.safetensors");
        Job job = mpi("--out", dir.resolve("two").toString(), "--examples", "3200", "--batch", "32", "--save", ckpt.toString());
        assertEquals(0, job.exit, job.output);
        DataParallelRun.main(new String[] {"--out", dir.resolve("zero").toString(), "--examples", "3200", "--batch", "32",
                "--restore", ckpt.toString(), "--epochs", "1"});
        // Nothing left to train: the restored parameters are rank 0's.
        assertArrayEquals(read(dir.resolve("two/rank-0.bin")), read(dir.resolve("zero/rank-0.bin")));
        DataParallelRun.main(new String[] {"--out", dir.resolve("one").toString(), "--examples", "3200", "--batch", "32",
                "--restore", ckpt.toString(), "--epochs", "2"});
        float[] resumed = read(dir.resolve("one/rank-0.bin"));
        assertTrue(maxRelativeDifference(read(dir.resolve("two/rank-0.bin")), resumed) > 1e-3, "the second epoch changed nothing");
        for (float f : resumed) assertTrue(Float.isFinite(f));
    }

    private record Job(int exit, String output, double seconds) {}

    private Job mpi(String... args) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of(mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2",
                "--mca", "btl", "self,vader", "-x", "MASTER_PORT=" + port,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xss4m",
                "-cp", System.getProperty("java.class.path"), DataParallelRun.class.getName()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile(dir, "mpirun", ".log");
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean finished = p.waitFor(JOB_TIMEOUT_S, TimeUnit.SECONDS);
        double secs = (System.nanoTime() - start) / 1e9;
        if (!finished) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String out = Files.readString(log);
        System.out.print(out);
        assertTrue(finished, "mpirun did not finish in " + JOB_TIMEOUT_S + " s (killed); output:\n" + out);
        return new Job(p.exitValue(), out, secs);
    }

    static float[] read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        float[] f = new float[bytes.length / 4];
        try (DataInputStream d = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
            for (int i = 0; i < f.length; i++) f[i] = d.readFloat();
        }
        return f;
    }

    /**
     * {@code max |a - b| / max |b|}: the largest difference relative to the parameters' scale. An
     * element-wise ratio would be dominated by weights that happen to be near zero, whose few ulps
     * of rounding divide into large ratios (1e-5 absolute at 3e-4: 3e-2) without meaning anything.
     */
    static double maxRelativeDifference(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs((double) a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / scale;
    }

    /** ||a - b|| / ||b||. */
    static double relativeNorm(float[] a, float[] b) {
        double d = 0, n = 0;
        for (int i = 0; i < a.length; i++) {
            d += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            n += (double) b[i] * b[i];
        }
        return Math.sqrt(d / n);
    }

    static String onPath(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(d, name);
            if (f.canExecute()) return f.getPath();
        }
        return null;
    }
}
