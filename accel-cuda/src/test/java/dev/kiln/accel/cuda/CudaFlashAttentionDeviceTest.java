package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.tck.HostData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The flash attention kernels themselves, forward and backward, against the float64 reference
 * of the composites' decompositions: every float type, causal and not, odd and unequal lengths,
 * head dims to 128, 2,048 keys (past the products path's 1,024), paired with the forward and
 * alone, SIMT and tensor cores, and the route each compile took. Needs a GPU; skips elsewhere
 * with the command to run it. Tolerances: f64 1e-10, f32 2e-5, f16 1e-2, bf16 3e-2 of the
 * largest reference magnitude (at least 1).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaFlashAttentionDeviceTest {
    private CudaAccelerator acc;

    @BeforeAll void open() { acc = DeviceChecks.openOrNull(); }

    @BeforeEach void needsGpu() { DeviceChecks.assumeOpen(acc); }

    @AfterAll void close() { if (acc != null) acc.close(); }

    /** b, t, s, d, e. */
    private static final int[][] SHAPES = {{3, 37, 53, 17, 9}, {2, 53, 37, 64, 64}, {2, 130, 130, 64, 64}, {1, 200, 300, 128, 128},
            {1, 65, 65, 24, 40}, {1, 2048, 2048, 64, 64}};

    private static double tolerance(DType t) {
        return switch (t) {
            case F64 -> 1e-10;
            case F32 -> 2e-5;
            case F16 -> 1e-2;
            default -> 3e-2;
        };
    }

    private static PrecisionPolicy policy(DType t) {
        return switch (t) {
            case BF16 -> PrecisionPolicy.BF16_MIXED;
            case F16 -> PrecisionPolicy.FP16_MIXED;
            default -> PrecisionPolicy.FP32;
        };
    }

    /** Attention and its backward over the same q, k, v: with fusion on the backward reads the forward's lse. */
    private static Graph graph(DType t, int[] s, boolean causal) {
        Graph.Builder b = Graph.builder();
        Value q = b.input(TensorType.of(t, s[0], s[1], s[3])), k = b.input(TensorType.of(t, s[0], s[2], s[3]));
        Value v = b.input(TensorType.of(t, s[0], s[2], s[4])), dO = b.input(TensorType.of(t, s[0], s[1], s[4]));
        double scale = 1 / Math.sqrt(s[3]);
        List<Value> outs = new ArrayList<>(List.of(b.apply1(new Composite.Attention(causal, scale), q, k, v)));
        outs.addAll(b.apply(new Composite.AttentionGrad(causal, scale), List.of(q, k, v, dO)));
        return b.build(outs);
    }

    private Map<String, Integer> checkOnce(DType t, int[] s, boolean causal, boolean fusion, String mode) {
        String old = System.getProperty("kiln.cuda.attention");
        System.setProperty("kiln.cuda.attention", mode);
        try {
            Graph g = graph(t, s, causal);
            try (Executable exe = acc.compile(g, CompileOptions.defaults().withPrecision(policy(t)).withFusion(fusion))) {
                DeviceChecks.check(acc, g, exe, new Random(s[1] * 31 + s[3] + (causal ? 1 : 0)), tolerance(t));
                return ((CudaGraphExecutable) exe).routes();
            }
        } finally {
            if (old == null) System.clearProperty("kiln.cuda.attention");
            else System.setProperty("kiln.cuda.attention", old);
        }
    }

    @Test void flashMatchesFloat64InEveryTypeAndShape() {
        boolean tensorCores = acc.device().ampereOrNewer();
        for (DType t : new DType[] {DType.F64, DType.F32, DType.BF16, DType.F16}) {
            for (int[] s : SHAPES) {
                for (boolean causal : new boolean[] {true, false}) {
                    // 2,048 keys once per kernel family (the reference takes seconds): f32 (SIMT) and bf16 (tensor cores), causal.
                    if (s[1] > 1000 && (!causal || t == DType.F64 || t == DType.F16)) continue;
                    Map<String, Integer> routes = checkOnce(t, s, causal, true, "flash");
                    String how = FlashAttentionKernels.tensorCores(t, acc.device().major()) ? "flash tensor cores" : "flash simt";
                    assertEquals(1, routes.getOrDefault("attention " + t.label() + ": " + how, 0), t + " forward route " + routes);
                    assertEquals(1, routes.getOrDefault("attention " + t.label() + ": " + how + " backward", 0), t + " backward route " + routes);
                    assertTrue(routes.keySet().stream().noneMatch(r -> r.contains("products") || r.contains("decomposition")), routes.toString());
                    if (tensorCores && (t == DType.BF16 || t == DType.F16) && s[1] < 1000) checkOnce(t, s, causal, true, "simt");
                }
            }
        }
    }

    /** Unpaired (fusion off), the backward reruns the forward kernel for its lse: two forward launches, same results. */
    @Test void anUnpairedBackwardRecomputesTheForward() {
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            Map<String, Integer> routes = checkOnce(t, new int[] {2, 130, 130, 64, 64}, true, false, "flash");
            String how = FlashAttentionKernels.tensorCores(t, acc.device().major()) ? "flash tensor cores" : "flash simt";
            assertEquals(2, routes.get("attention " + t.label() + ": " + how), routes.toString());
        }
    }

    /** Past 128 the products path runs it; forced, the products path runs what flash would have. */
    @Test void productsRemainTheFallbackAndCanBeForced() {
        Map<String, Integer> wide = checkOnce(DType.F32, new int[] {2, 40, 40, 160, 160}, true, true, "flash");
        assertEquals(1, wide.get("attention f32: products"), wide.toString());
        Map<String, Integer> forced = checkOnce(DType.BF16, new int[] {2, 130, 130, 64, 64}, true, true, "products");
        assertEquals(1, forced.get("attention bf16: products"), forced.toString());
        assertEquals(1, forced.get("attention bf16: products backward"), forced.toString());
    }

    /**
     * Device time of the GPT benchmark's attention (256 = 32 x 8 heads, 256 positions, head dim 64,
     * bf16, causal) forward and backward, flash against products, printed for the issue notes.
     * Fails only if flash is slower than the products path it replaces.
     */
    @Test void flashIsFasterThanProductsAtTheBenchmarksShape() {
        double flash = time("flash"), products = time("products");
        System.out.printf("attention timing (bf16 [256, 256, 64] causal, forward + backward): flash %.3f ms, products %.3f ms, ratio %.2f%n",
                flash, products, products / flash);
        assertTrue(flash < products, "flash " + flash + " ms vs products " + products + " ms");
    }

    private double time(String mode) {
        String old = System.getProperty("kiln.cuda.attention");
        System.setProperty("kiln.cuda.attention", mode);
        Graph g = graph(DType.BF16, new int[] {256, 256, 256, 64, 64}, true);
        List<Buffer> in = new ArrayList<>();
        try (Executable exe = acc.compile(g, CompileOptions.defaults().withPrecision(PrecisionPolicy.BF16_MIXED))) {
            List<double[]> data = DeviceChecks.inputs(g, new Random(1));
            for (int i = 0; i < data.size(); i++) in.add(HostData.upload(acc, g.inputs().get(i).type(), data.get(i)));
            List<Buffer> out = new ArrayList<>();
            for (Value v : g.outputs()) out.add(acc.allocate(v.type()));
            for (int i = 0; i < 5; i++) exe.run(in, out);
            acc.stream().sync();
            int runs = 50;
            long t0 = System.nanoTime();
            for (int i = 0; i < runs; i++) exe.run(in, out);
            acc.stream().sync();
            double ms = (System.nanoTime() - t0) / 1e6 / runs;
            out.forEach(Buffer::close);
            return ms;
        } finally {
            in.forEach(Buffer::close);
            if (old == null) System.clearProperty("kiln.cuda.attention");
            else System.setProperty("kiln.cuda.attention", old);
        }
    }
}
