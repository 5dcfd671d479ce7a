package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EagerTensorTest {
    private static Kiln kiln;

    @BeforeAll static void open() { kiln = Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    @AfterAll static void close() { kiln.close(); }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 4 - 2);
        return a;
    }

    @Test void matmulAndBroadcastingAgreeWithFloat64Loops() {
        Random r = new Random(1);
        float[] a = random(r, 3 * 5), b = random(r, 5 * 4), c = random(r, 4);
        float[] got = kiln.tensor(a, 3, 5).matmul(kiln.tensor(b, 5, 4)).add(kiln.tensor(c, 4)).relu().toFloatArray();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) {
                double s = c[j];
                for (int k = 0; k < 5; k++) s += (double) a[i * 5 + k] * b[k * 4 + j];
                assertEquals(Math.max(s, 0), got[i * 4 + j], 1e-5 * (1 + Math.abs(s)));
            }
        }
    }

    @Test void aShapeWhoseElementCountOverflowsIsRefusedBeforeAnyUpload() {
        // 2147418113 * 1718039348 * 5 wraps to 4 in 64 bits: unchecked, four floats "fill" it.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kiln.tensor(new float[4], 2147418113, 1718039348, 5));
        assertTrue(e.getMessage().contains("[2147418113, 1718039348, 5]") && e.getMessage().contains("more than a tensor can hold"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> kiln.zeros(1 << 30, 1 << 30, 1 << 30));
        IllegalArgumentException r = assertThrows(IllegalArgumentException.class, () -> kiln.zeros(0, 4).reshape(-1, 0));
        assertTrue(r.getMessage().contains("cannot reshape"), r.getMessage());
    }

    @Test void gradientTapeMatchesFiniteDifferences() {
        Random r = new Random(2);
        float[] x = random(r, 4 * 3), w = random(r, 2 * 3);
        int[] labels = {0, 1, 1, 0};
        Tensor xt = kiln.tensor(x, 4, 3), wt = kiln.tensor(w, 2, 3), b = kiln.tensor(new float[] {0.1f, -0.2f}, 2);
        Tensor y = kiln.tensor(labels, 4);
        List<Tensor> g;
        try (GradientTape tape = kiln.tape()) {
            Tensor loss = xt.linear(wt, b, dev.kiln.spi.ir.Composite.Activation.TANH).softmaxCrossEntropy(y);
            g = tape.gradient(loss, List.of(wt));
        }
        float[] analytic = g.getFirst().toFloatArray();
        double eps = 1e-3;
        for (int i = 0; i < w.length; i++) {
            float[] wp = w.clone(), wm = w.clone();
            wp[i] += (float) eps;
            wm[i] -= (float) eps;
            double lp = xt.linear(kiln.tensor(wp, 2, 3), b, dev.kiln.spi.ir.Composite.Activation.TANH).softmaxCrossEntropy(y).item();
            double lm = xt.linear(kiln.tensor(wm, 2, 3), b, dev.kiln.spi.ir.Composite.Activation.TANH).softmaxCrossEntropy(y).item();
            assertEquals((lp - lm) / (2 * eps), analytic[i], 2e-3, "d loss / d w[" + i + "]");
        }
    }

    @Test void aTapeKeepsTheDataItRecordedWhenTheTensorIsClosedMeanwhile() {
        Tensor x = kiln.tensor(new float[] {1, 2, 3}, 3), w = kiln.tensor(new float[] {0.5f, -1, 2}, 3);
        GradientTape tape = kiln.tape();
        try (tape) {
            Tensor loss = x.mul(w).sum();
            // As BatchNorm2d closes the running statistics it replaces, and an optimizer step the parameters.
            x.close();
            assertArrayEquals(new float[] {1, 2, 3}, tape.gradient(loss, List.of(w)).getFirst().toFloatArray());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> tape.gradient(w.sum(), List.of(w)));
        assertTrue(e.getMessage().contains("GradientTape is closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> x.toFloatArray(), "x itself stays closed");
    }

    @Test void linearRejectsAWrongInputShapeNamingTheLayerAndBothShapes() {
        Sequential model = Sequential.of(new Linear(784, 128), new ReLU(), new Linear(128, 10));
        Tensor images = kiln.zeros(2, 28, 28);
        var e = assertThrows(IllegalArgumentException.class, () -> model.forward(images));
        String m = e.getMessage();
        assertTrue(m.contains("Linear(784 -> 128)") && m.contains("at 0"), m);
        assertTrue(m.contains("[batch, 784]") && m.contains("[2, 28, 28]") && m.contains("Flatten"), m);
        var e2 = assertThrows(IllegalArgumentException.class, () -> Sequential.of(new Flatten(), new Linear(100, 10)).forward(images));
        assertTrue(e2.getMessage().contains("[2, 784]"), e2.getMessage());
    }

    @Test void opsOnMismatchedShapesNameTheOpAndShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> kiln.zeros(3, 4).matmul(kiln.zeros(5, 6)));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[3, 4]") && e.getMessage().contains("[5, 6]"), e.getMessage());
    }

    @Test void closedKilnIsAnError() {
        Kiln k = Kiln.open(KilnConfig.builder().backend("javaref").build());
        Tensor t = k.zeros(2);
        k.close();
        var e = assertThrows(IllegalStateException.class, () -> t.add(t));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test void reshapeInfersOneDimension() {
        Tensor t = kiln.tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).reshape(-1, 2);
        assertEquals(dev.kiln.core.Shape.of(3, 2), t.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
    }
}
