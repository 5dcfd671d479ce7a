package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Vector API loops and the scalar ones compute the same bits, and a JVM without
 * {@code jdk.incubator.vector} (a host application that passes no flags) trains on the scalar ones.
 */
class OptimLoopsTest {
    private static final int SIZE = 2 * JavaOptim.CHUNK + 37;

    @Test void theseTestsHaveTheVectorApiAndUseIt() {
        assertTrue(OptimLoops.vectorApiMissing().isEmpty(), "surefire runs with --add-modules jdk.incubator.vector (kiln.test.jvm)");
        assertTrue(OptimLoops.description().startsWith("optimizer loops Vector API ("), OptimLoops.description());
        assertTrue(new OneDnnProvider().probe().reason().contains("; " + OptimLoops.description() + ";"), new OneDnnProvider().probe().reason());
    }

    /**
     * The plugin's loops start scalar and switch to the vector ones once the JIT has compiled
     * them, and the kernels' calls then run the compiled loop (a switch the kernels find slow is
     * undone, so a warm-up that fooled itself shows up as a switch that does not last). In a fresh
     * JVM, as a training process is. Not a timing test: the child's 60 s deadline only turns a
     * switch that never comes into a failure, not a hang.
     */
    @Test void theWarmingLoopsSwitchToTheVectorLoopsAndStay() throws IOException, InterruptedException {
        String log = runJvm(WarmingLoopsMain.class, "--add-modules", "jdk.incubator.vector");
        assertTrue(log.lines().anyMatch(l -> l.startsWith("WARM true ")), "the vector loops never overtook the scalar ones within 60 s:\n" + log);
        assertTrue(log.contains("STAYS true"), "the kernels' calls found the vector loop slow after the switch and went back to the scalar one:\n" + log);
        assertTrue(log.contains("SGD false"), "SGD's loop is warmed only once an SGD update runs:\n" + log);
    }

    /**
     * Rounds as measured on an Intel Xeon (2 vCPUs) over 8,352 elements: a vector loop C1 had
     * compiled (150 ns per element) beat a still-interpreted scalar one (600) and was taken for
     * compiled; only C2's (2-4 ns) may win.
     */
    @Test void aWarmUpRoundCountsOnlyACompiledVectorLoop() {
        long elements = 8_352;
        assertTrue(WarmingLoops.vectorWon(2 * elements, 3 * elements, elements), "C2's vector loop against the compiled scalar one");
        assertTrue(!WarmingLoops.vectorWon(150 * elements, 600 * elements, elements), "C1's vector loop against the interpreted scalar one");
        assertTrue(!WarmingLoops.vectorWon(4 * elements, 3 * elements, elements), "compiled, but not yet faster than the scalar loop");
    }

    @Test void adamLoopsAgreeBitForBit() {
        float[][] configs = { // shrink, l2: none, coupled weight decay, decoupled
            {1, 0}, {1, 0.01f}, {1 - 0.01f * 0.05f, 0},
        };
        for (float[] c : configs) {
            for (int t : new int[] {1, 2, 50}) {
                float b1 = 0.9f, b2 = 0.999f, lr = 0.01f;
                float a = (float) (lr / (1 - Math.pow(0.9, t))), c2 = (float) Math.sqrt(1 - Math.pow(0.999, t));
                compare(4, 3, (loops, in, out, from, to) -> loops.adam(in, out, from, to, c[0], c[1], b1, 1 - b1, b2, 1 - b2, a, c2, 1e-8f),
                        "adam shrink " + c[0] + " l2 " + c[1] + " t " + t);
            }
        }
    }

    @Test void sgdLoopsAgreeBitForBit() {
        for (float mom : new float[] {0, 0.9f}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                for (float wd : new float[] {0, 0.01f}) {
                    compare(3, 2, (loops, in, out, from, to) -> loops.sgd(in, out, from, to, 0.05f, wd, mom, nesterov),
                            "sgd momentum " + mom + " nesterov " + nesterov + " wd " + wd);
                }
            }
        }
    }

    /** The branch-free flush against the comparison it replaces, around the threshold, at the extremes and at random. */
    @Test void theArithmeticFlushIsTheComparison() {
        List<Float> xs = new ArrayList<>(List.of(0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -1f, 1e-3f));
        for (float t : new float[] {ScalarOptim.TINY, -ScalarOptim.TINY}) {
            float x = t;
            for (int i = 0; i < 1000; i++) x = Math.nextDown(x);
            for (int i = 0; i < 2000; i++, x = Math.nextUp(x)) xs.add(x);
        }
        Random random = new Random(3);
        for (int i = 0; i < 1_000_000; i++) xs.add(Float.intBitsToFloat(random.nextInt()));
        for (float x : xs) {
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(ScalarOptim.flushAbs(x)) && Float.isNaN(ScalarOptim.flush(x)));
                continue;
            }
            float abs = Math.abs(x) < ScalarOptim.TINY ? 0f : x, plain = x < ScalarOptim.TINY ? 0f : x;
            if (Float.floatToRawIntBits(ScalarOptim.flushAbs(x)) != Float.floatToRawIntBits(abs)) throw new AssertionError("flushAbs(" + x + ")");
            if (Float.floatToRawIntBits(ScalarOptim.flush(x)) != Float.floatToRawIntBits(plain)) throw new AssertionError("flush(" + x + ")");
        }
    }

    /** Runs a JVM with no flags at all, like a host application, on this test class path. */
    @Test void aJvmWithoutTheVectorModuleRunsTheScalarLoopsWithTheSameBits() throws IOException, InterruptedException {
        String log = runJvm(OptimizerBits.class);
        assertTrue(log.contains("VECTOR_MODULE false"), log);
        assertTrue(log.contains("REASON oneDNN ") && log.contains("; Vector API absent: optimizer loops scalar; add --add-modules jdk.incubator.vector"), log);
        String bits = log.lines().filter(l -> l.startsWith("BITS ")).findFirst().orElseThrow(() -> new AssertionError(log));
        assertEquals("BITS " + OptimizerBits.digest(), bits, "vector loops here, scalar loops in the child:\n" + log);
    }

    /**
     * Runs {@code main} in a fresh JVM on this test class path with only {@code options}, and
     * returns its output once it exited with status 0 (within 120 s).
     */
    private static String runJvm(Class<?> main, String... options) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // Options from the environment would defeat the point of a JVM with only these flags.
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        Process child = pb.start();
        String log = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), log);
        assertEquals(0, child.exitValue(), log);
        return log;
    }

    private interface Loop {
        void run(OptimLoops loops, MemorySegment[] in, MemorySegment[] out, long from, long to);
    }

    /** Random inputs, both loops over chunks as the kernel calls them, every output compared as raw bits. */
    private static void compare(int inputs, int outputs, Loop loop, String what) {
        Random random = new Random(what.hashCode());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] in = new MemorySegment[inputs];
            for (int i = 0; i < inputs; i++) {
                in[i] = arena.allocate(4L * SIZE, 64);
                for (int j = 0; j < SIZE; j++) {
                    float x;
                    if (i >= 2) x = j % 13 == 0 ? 1e-31f : (float) Math.abs(random.nextGaussian() * 1e-3); // moments, some below the flush
                    else x = j % 11 == 0 ? 0 : (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3));
                    in[i].setAtIndex(ValueLayout.JAVA_FLOAT, j, x);
                }
            }
            MemorySegment[] scalar = new MemorySegment[outputs], vector = new MemorySegment[outputs];
            for (int i = 0; i < outputs; i++) {
                scalar[i] = arena.allocate(4L * SIZE, 64);
                vector[i] = arena.allocate(4L * SIZE, 64);
            }
            for (long i = 0; i < SIZE; i += JavaOptim.CHUNK) {
                long to = Math.min(SIZE, i + JavaOptim.CHUNK);
                loop.run(ScalarOptim.LOOPS, in, scalar, i, to);
                loop.run(VectorOptim.LOOPS, in, vector, i, to);
            }
            for (int o = 0; o < outputs; o++) {
                for (int j = 0; j < SIZE; j++) {
                    float s = scalar[o].getAtIndex(ValueLayout.JAVA_FLOAT, j), v = vector[o].getAtIndex(ValueLayout.JAVA_FLOAT, j);
                    if (Float.floatToRawIntBits(s) != Float.floatToRawIntBits(v)) {
                        throw new AssertionError(what + ": output " + o + " element " + j + " scalar " + s + " vector " + v);
                    }
                }
            }
        }
    }
}
