package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.accel.cuda.FlashAttentionAlgorithm.Backward;
import dev.kiln.accel.cuda.FlashAttentionAlgorithm.Forward;
import dev.kiln.accel.cuda.FlashAttentionAlgorithm.Shape;
import dev.kiln.accel.cuda.FlashAttentionKernels.Pass;
import dev.kiln.accel.cuda.FlashAttentionKernels.Tiles;
import dev.kiln.core.DType;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The flash algorithm the CUDA kernels run, in float64 on the CPU (no GPU needed), against naive
 * attention (the composite's decomposition: scores, masked softmax, products) on random inputs in
 * [-1.5, 1.5): with float64 arithmetic the blocked online softmax and the recomputing backward
 * agree with the naive results to 1e-12 of the largest magnitude, for every tile shape the kernels
 * pick and for odd ones, causal and not, odd sequence lengths, more keys than queries and fewer,
 * and sequences past the old 1,024 limit. With bf16 rounding of P and dS (what the tensor-core
 * kernels round) they stay within 1e-2.
 */
class FlashAttentionAlgorithmTest {
    private static final double EXACT = 1e-12;
    private static final DoubleUnaryOperator NONE = x -> x;

    /** b, t, s, d, e. */
    private static final int[][] SHAPES = {{2, 37, 53, 17, 9}, {1, 53, 37, 16, 24}, {3, 1, 1, 1, 1}, {1, 64, 64, 64, 64},
            {1, 130, 130, 128, 128}, {1, 65, 200, 33, 65}, {2, 7, 3, 5, 2}};

    /** Every {br, bc} a kernel of the plugin uses for these head dims, and odd ones that cut every block boundary. */
    private static List<int[]> tiles(int d, int e) {
        Set<List<Integer>> set = new LinkedHashSet<>();
        for (Pass p : Pass.values()) {
            for (DType t : new DType[] {DType.F32, DType.F64, DType.BF16}) {
                Tiles s = FlashAttentionKernels.simtTiles(p, t, d, e);
                set.add(List.of(s.br(), s.bc()));
            }
            Tiles m = FlashAttentionKernels.mmaTiles(p, d, e);
            set.add(List.of(m.br(), m.bc()));
        }
        set.add(List.of(5, 3));
        set.add(List.of(1, 1));
        List<int[]> out = new ArrayList<>();
        for (List<Integer> l : set) out.add(new int[] {l.get(0), l.get(1)});
        return out;
    }

    @Test void forwardMatchesNaiveAttentionForEveryTiling() {
        Random r = new Random(1);
        for (int[] s : SHAPES) {
            for (boolean causal : new boolean[] {false, true}) {
                Shape sh = new Shape(s[0], s[1], s[2], s[3], s[4], causal, 1 / Math.sqrt(s[3]));
                double[] q = random(r, s[0] * s[1] * s[3]), k = random(r, s[0] * s[2] * s[3]), v = random(r, s[0] * s[2] * s[4]);
                double[] want = FlashAttentionAlgorithm.naiveForward(sh, q, k, v);
                for (int[] t : tiles(s[3], s[4])) {
                    Forward f = FlashAttentionAlgorithm.forward(sh, q, k, v, t[0], t[1], NONE);
                    assertClose(want, f.o(), EXACT, "o " + sh + " tiles " + t[0] + "x" + t[1]);
                    assertClose(naiveLse(sh, q, k), f.lse(), EXACT, "lse " + sh + " tiles " + t[0] + "x" + t[1]);
                }
            }
        }
    }

    @Test void backwardFromTheLogSumExpMatchesNaiveGradients() {
        Random r = new Random(2);
        for (int[] s : SHAPES) {
            for (boolean causal : new boolean[] {false, true}) {
                Shape sh = new Shape(s[0], s[1], s[2], s[3], s[4], causal, 0.7 / Math.sqrt(s[3]));
                double[] q = random(r, s[0] * s[1] * s[3]), k = random(r, s[0] * s[2] * s[3]), v = random(r, s[0] * s[2] * s[4]);
                double[] dO = random(r, s[0] * s[1] * s[4]);
                Backward want = FlashAttentionAlgorithm.naiveBackward(sh, q, k, v, dO);
                for (int[] t : tiles(s[3], s[4])) {
                    Forward f = FlashAttentionAlgorithm.forward(sh, q, k, v, t[0], t[1], NONE);
                    double[] delta = FlashAttentionAlgorithm.delta(sh, f.o(), dO);
                    Backward got = FlashAttentionAlgorithm.backward(sh, q, k, v, dO, f.lse(), delta, t, new int[] {t[1], t[0]}, NONE);
                    String what = sh + " tiles " + t[0] + "x" + t[1];
                    assertClose(want.dq(), got.dq(), EXACT, "dq " + what);
                    assertClose(want.dk(), got.dk(), EXACT, "dk " + what);
                    assertClose(want.dv(), got.dv(), EXACT, "dv " + what);
                }
            }
        }
    }

    /** The causal forward visits, per query block, only the key blocks up to its last row: 10 of 16 at 256 x 256 in 64 x 64 tiles. */
    @Test void causalQueryBlocksSkipTheKeyBlocksTheyCannotSee() {
        Random r = new Random(3);
        Shape sh = new Shape(1, 256, 256, 4, 4, true, 0.5);
        double[] q = random(r, 256 * 4), k = random(r, 256 * 4), v = random(r, 256 * 4);
        assertEquals(10, FlashAttentionAlgorithm.forward(sh, q, k, v, 64, 64, NONE).keyBlocks());
        assertEquals(16, FlashAttentionAlgorithm.forward(new Shape(1, 256, 256, 4, 4, false, 0.5), q, k, v, 64, 64, NONE).keyBlocks());
    }

    /** Past the 1,024 keys the warp row kernels held in registers: 1,500 queries and keys, causal. */
    @Test void sequencesPastTheOldLimit() {
        Random r = new Random(4);
        Shape sh = new Shape(1, 1500, 1500, 8, 8, true, 1 / Math.sqrt(8));
        double[] q = random(r, 1500 * 8), k = random(r, 1500 * 8), v = random(r, 1500 * 8), dO = random(r, 1500 * 8);
        Forward f = FlashAttentionAlgorithm.forward(sh, q, k, v, 64, 64, NONE);
        assertClose(FlashAttentionAlgorithm.naiveForward(sh, q, k, v), f.o(), EXACT, "o " + sh);
        Backward got = FlashAttentionAlgorithm.backward(sh, q, k, v, dO, f.lse(), FlashAttentionAlgorithm.delta(sh, f.o(), dO),
                new int[] {64, 64}, new int[] {64, 64}, NONE);
        Backward want = FlashAttentionAlgorithm.naiveBackward(sh, q, k, v, dO);
        assertClose(want.dq(), got.dq(), EXACT, "dq");
        assertClose(want.dk(), got.dk(), EXACT, "dk");
        assertClose(want.dv(), got.dv(), EXACT, "dv");
    }

    /** What the bf16 tensor-core kernels round (P and dS to bf16 before their second products) costs under 1e-2. */
    @Test void bf16RoundedProbabilitiesStayWithinTheHalfPrecisionTolerance() {
        Random r = new Random(5);
        DoubleUnaryOperator bf16 = FlashAttentionAlgorithmTest::bf16;
        for (boolean causal : new boolean[] {false, true}) {
            Shape sh = new Shape(2, 100, 100, 64, 64, causal, 0.125);
            double[] q = random(r, 2 * 100 * 64), k = random(r, 2 * 100 * 64), v = random(r, 2 * 100 * 64), dO = random(r, 2 * 100 * 64);
            Forward f = FlashAttentionAlgorithm.forward(sh, q, k, v, 64, 64, bf16);
            assertClose(FlashAttentionAlgorithm.naiveForward(sh, q, k, v), f.o(), 1e-2, "bf16 o");
            Backward got = FlashAttentionAlgorithm.backward(sh, q, k, v, dO, f.lse(), FlashAttentionAlgorithm.delta(sh, f.o(), dO),
                    new int[] {64, 64}, new int[] {64, 64}, bf16);
            Backward want = FlashAttentionAlgorithm.naiveBackward(sh, q, k, v, dO);
            assertClose(want.dq(), got.dq(), 1e-2, "bf16 dq");
            assertClose(want.dk(), got.dk(), 1e-2, "bf16 dk");
            assertClose(want.dv(), got.dv(), 1e-2, "bf16 dv");
        }
    }

    /** Every head dim up to 128 gets tiles that fit the 48 KiB of static shared memory, in every type. */
    @Test void tilesFitStaticSharedMemoryForEveryHeadDim() {
        for (int d = 1; d <= FlashAttentionKernels.MAX_HEAD; d++) {
            for (int e : new int[] {1, d, FlashAttentionKernels.MAX_HEAD}) {
                for (Pass p : Pass.values()) {
                    for (DType t : new DType[] {DType.F64, DType.F32, DType.BF16, DType.F16}) {
                        Tiles s = FlashAttentionKernels.simtTiles(p, t, d, e);
                        assertTrue(FlashAttentionKernels.simtShared(p, t, d, e, s.br(), s.bc()) <= FlashAttentionKernels.SHARED_LIMIT);
                    }
                    assertTrue(FlashAttentionKernels.mmaShared(p, d, e) <= FlashAttentionKernels.SHARED_LIMIT, p + " " + d + " " + e);
                    Tiles m = FlashAttentionKernels.mmaTiles(p, d, e);
                    assertEquals(m.br() % 16 + m.bc() % 16, 0, "tensor-core tiles are whole 16-row fragments");
                    assertEquals(p == Pass.DKDV ? m.bc() : m.br(), 16 * m.warps(), "a warp per 16 rows of the block's own side");
                }
            }
        }
    }

    /** Round to nearest even bf16, as the kernels' cvt.rn.bf16x2.f32 does. */
    static double bf16(double x) {
        int bits = Float.floatToRawIntBits((float) x);
        bits += 0x7fff + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(bits & 0xffff0000);
    }

    /** The naive log-sum-exp in the kernels' units: log2(sum_j exp(s_ij)) with s already scaled. */
    private static double[] naiveLse(Shape sh, double[] q, double[] k) {
        double[] lse = new double[sh.b() * sh.t()];
        for (int b = 0; b < sh.b(); b++) {
            for (int i = 0; i < sh.t(); i++) {
                double mx = Double.NEGATIVE_INFINITY, sum = 0;
                double[] s = new double[sh.s()];
                for (int j = 0; j < sh.s(); j++) {
                    for (int x = 0; x < sh.d(); x++) s[j] += q[((b * sh.t()) + i) * sh.d() + x] * k[((b * sh.s()) + j) * sh.d() + x];
                    s[j] = sh.causal() && j > i ? Double.NEGATIVE_INFINITY : s[j] * sh.scale();
                    mx = Math.max(mx, s[j]);
                }
                for (int j = 0; j < sh.s(); j++) sum += Math.exp(s[j] - mx);
                lse[b * sh.t() + i] = (mx + Math.log(sum)) * FlashAttentionAlgorithm.LOG2E;
            }
        }
        return lse;
    }

    private static double[] random(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextDouble() * 3 - 1.5;
        return a;
    }

    private static void assertClose(double[] want, double[] got, double rtol, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 1;
        for (double w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs(want[i] - got[i]);
            if (!(err <= rtol * scale)) throw new AssertionError(what + "[" + i + "]: " + got[i] + " vs " + want[i] + " (tolerance " + rtol * scale + ")");
        }
    }
}
