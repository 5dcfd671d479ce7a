package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link GradientTape#gradient(Tensor, List, Tensor)}: vector-Jacobian products of non-scalar targets. */
class GradientTapeUpstreamTest {
    static Kiln kiln;

    @BeforeAll static void open() { kiln = Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    @AfterAll static void close() { kiln.close(); }

    @Test void theUpstreamGradientWeightsEachElementOfTheTarget() {
        Tensor x = kiln.tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), w = kiln.tensor(new float[] {0.5f, -1, 2}, 3);
        Tensor u = kiln.tensor(new float[] {1, 0, -2, 3, 0.25f, 1}, 2, 3);
        List<Tensor> g;
        try (GradientTape tape = kiln.tape()) {
            Tensor y = x.mul(w).tanh(); // [2, 3]
            g = tape.gradient(y, List.of(x, w), u);
        }
        float[] xs = x.toFloatArray(), ws = w.toFloatArray(), us = u.toFloatArray();
        float[] dx = new float[6], dw = new float[3];
        for (int i = 0; i < 6; i++) {
            double t = Math.tanh(xs[i] * ws[i % 3]), d = us[i] * (1 - t * t);
            dx[i] = (float) (d * ws[i % 3]);
            dw[i % 3] += (float) (d * xs[i]);
        }
        assertArrayEquals(dx, g.get(0).toFloatArray(), 1e-6f);
        assertArrayEquals(dw, g.get(1).toFloatArray(), 1e-5f);
    }

    @Test void aScalarTargetWithAnUpstreamScalesItsGradient() {
        Tensor x = kiln.tensor(new float[] {1, 2}, 2);
        List<Tensor> g;
        try (GradientTape tape = kiln.tape()) {
            g = tape.gradient(x.mul(x).sum(), List.of(x), kiln.scalar(3));
        }
        assertArrayEquals(new float[] {6, 12}, g.getFirst().toFloatArray());
    }

    @Test void aNonScalarTargetNeedsAnUpstreamOfItsShape() {
        Tensor x = kiln.tensor(new float[] {1, 2}, 2);
        try (GradientTape tape = kiln.tape()) {
            Tensor y = x.mul(x);
            var none = assertThrows(IllegalArgumentException.class, () -> tape.gradient(y, List.of(x)));
            assertTrue(none.getMessage().contains("not a scalar"), none.getMessage());
            var wrong = assertThrows(IllegalArgumentException.class, () -> tape.gradient(y, List.of(x), kiln.tensor(new float[] {1, 2, 3}, 3)));
            assertTrue(wrong.getMessage().contains("f32[3]") || wrong.getMessage().contains("[3]"), wrong.getMessage());
        }
    }
}
