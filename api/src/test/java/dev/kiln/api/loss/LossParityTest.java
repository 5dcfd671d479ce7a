package dev.kiln.api.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every loss, with each reduction, against PyTorch 1.13 ({@code resources/parity/losses.safetensors},
 * written by {@code loss_fixtures.py} in float64 from float32 inputs): the loss and its gradient
 * with respect to the output (of {@code sum(w * loss)} for {@link Reduction#NONE}), through
 * {@link GradientTape} on the reference backend. Agreement is float32 rounding of a few dozen ops:
 * {@code max |kiln - torch| <= 2e-6 * max(1, max |torch|)}.
 */
class LossParityTest {
    static Kiln kiln;
    static SafeTensorsFile fixture;
    static double worstValue, worstGradient;

    @BeforeAll static void open() throws Exception {
        kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
        fixture = SafeTensorsFile.read(Path.of(LossParityTest.class.getResource("/parity/losses.safetensors").toURI()));
    }

    @AfterAll static void close() {
        System.out.printf("losses vs torch: worst value %.2e, worst gradient %.2e%n", worstValue, worstGradient);
        kiln.close();
    }

    private static Tensor tensor(String name) {
        StoredTensor s = fixture.tensor(name, null);
        int[] dims = s.kilnShape().dims();
        return s.dtype().isFloating() ? kiln.tensor(s.toFloats(), dims) : kiln.tensor(toInts(s.toDoubles()), dims);
    }

    private static int[] toInts(double[] d) {
        int[] out = new int[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (int) d[i];
        return out;
    }

    private static double gap(float[] got, float[] want) {
        double worst = 0, scale = 1;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        return worst / scale;
    }

    private void check(String name, Loss loss, String output, String target, String weights) {
        Tensor a = tensor(output), t = tensor(target);
        Tensor l;
        List<Tensor> g;
        try (GradientTape tape = kiln.tape()) {
            l = loss.compute(a, t);
            Tensor objective = weights == null ? l : l.mul(tensor(weights)).sum();
            g = tape.gradient(objective, List.of(a));
        }
        double v = gap(l.toFloatArray(), fixture.tensor(name + ".out", null).toFloats());
        double d = gap(g.getFirst().toFloatArray(), fixture.tensor(name + ".grad", null).toFloats());
        worstValue = Math.max(worstValue, v);
        worstGradient = Math.max(worstGradient, d);
        assertTrue(v <= 2e-6, name + ": loss differs from torch by " + v);
        assertTrue(d <= 2e-6, name + ": gradient differs from torch by " + d);
    }

    private void eachReduction(String name, Function<Reduction, Loss> loss, String output, String target, String weights) {
        for (Reduction r : Reduction.values()) {
            check(name + "_" + r.name().toLowerCase(Locale.ROOT), loss.apply(r), output, target, r == Reduction.NONE ? weights : null);
        }
    }

    @Test void crossEntropy() { eachReduction("ce", r -> Loss.crossEntropy(0, r), "logits", "labels", "w6"); }

    @Test void crossEntropyWithLabelSmoothing() { eachReduction("ce_smooth", r -> Loss.crossEntropy(0.1, r), "logits", "labels", "w6"); }

    @Test void theDefaultCrossEntropyIsTheFusedOne() { check("ce_mean", Loss.crossEntropy(), "logits", "labels", null); }

    @Test void nll() { eachReduction("nll", Loss::nll, "logp", "labels", "w6"); }

    @Test void bceWithLogits() { eachReduction("bce_logits", Loss::bceWithLogits, "x", "y", "w43"); }

    @Test void binaryCrossEntropy() { eachReduction("bce", Loss::binaryCrossEntropy, "p", "y", "w43"); }

    @Test void binaryCrossEntropyClampsItsLogsAtMinus100() {
        float[] got = Loss.binaryCrossEntropy(Reduction.NONE).compute(tensor("edge_p"), tensor("edge_y")).toFloatArray();
        assertArrayEquals(fixture.tensor("bce_edge.out", null).toFloats(), got, 1e-5f);
    }

    @Test void mse() { eachReduction("mse", Loss::mse, "out", "tgt", "w43"); }

    @Test void l1() { eachReduction("l1", Loss::l1, "out", "tgt", "w43"); }

    @Test void huber() { eachReduction("huber", r -> Loss.huber(1.5, r), "out", "tgt", "w43"); }

    @Test void smoothL1() { eachReduction("smooth_l1", r -> Loss.smoothL1(0.5, r), "out", "tgt", "w43"); }

    @Test void badShapesNameTheLossAndBothShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Loss.huber(1, Reduction.MEAN).compute(tensor("out"), tensor("logits")));
        assertTrue(e.getMessage().startsWith("huber: output [4, 3] and target [6, 5] differ"), e.getMessage());
        var c = assertThrows(IllegalArgumentException.class, () -> Loss.nll(Reduction.MEAN).compute(tensor("logp"), tensor("out")));
        assertTrue(c.getMessage().startsWith("nll: needs output [n, classes] and integer labels [n]"), c.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Loss.crossEntropy(1.5, Reduction.MEAN));
    }
}
