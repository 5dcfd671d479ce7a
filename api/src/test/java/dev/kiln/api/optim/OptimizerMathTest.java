package dev.kiln.api.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Parameter;
import dev.kiln.core.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Optimizer steps on the pure-Java plugin against the PyTorch update rules written out in float64.
 * Three steps with different gradients and a changing learning rate, so bias correction, decay and
 * the state carried between steps all show.
 */
class OptimizerMathTest {
    private static final int N = 7, STEPS = 3;
    private static final double TOL = 1e-5;

    private final SplittableRandom rnd = new SplittableRandom(11);
    private final double[] p0 = random(N, 1.5);
    private final double[][] g = {random(N, 2), random(N, 2), random(N, 2)};
    private final double[] lr = {0.05, 0.03, 0.02};

    @Test void adamWMatchesTheFloat64Rule() {
        double b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
        double[] p = p0.clone(), m = new double[N], v = new double[N];
        for (int t = 1; t <= STEPS; t++) {
            for (int i = 0; i < N; i++) {
                double gi = g[t - 1][i], a = lr[t - 1];
                p[i] *= 1 - a * wd;
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                double mh = m[i] / (1 - Math.pow(b1, t)), vh = v[i] / (1 - Math.pow(b2, t));
                p[i] -= a * mh / (Math.sqrt(vh) + eps);
            }
        }
        check(Adam.adamW(1, wd), p);
    }

    @Test void adamWithL2DecayMatchesTheFloat64Rule() {
        double b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.05;
        double[] p = p0.clone(), m = new double[N], v = new double[N];
        for (int t = 1; t <= STEPS; t++) {
            for (int i = 0; i < N; i++) {
                double gi = g[t - 1][i] + wd * p[i], a = lr[t - 1];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                p[i] -= a * (m[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(v[i] / (1 - Math.pow(b2, t))) + eps);
            }
        }
        check(new Adam(1, b1, b2, eps, wd, false), p);
    }

    @Test void sgdNesterovWithWeightDecayMatchesTheFloat64Rule() {
        double mu = 0.9, wd = 0.01;
        double[] p = p0.clone(), buf = new double[N];
        for (int t = 1; t <= STEPS; t++) {
            for (int i = 0; i < N; i++) {
                double gi = g[t - 1][i] + wd * p[i];
                buf[i] = t == 1 ? gi : mu * buf[i] + gi; // PyTorch seeds the buffer with the first gradient
                p[i] -= lr[t - 1] * (gi + mu * buf[i]);
            }
        }
        check(new SGD(1, mu, true, wd), p);
    }

    @Test void globalNormClippingScalesAllGradientsTogether() {
        // Two parameters share one norm: clipping each on its own would give a different answer.
        double max = 0.5, a = 0.1;
        double[] q0 = random(3, 1), h = random(3, 4);
        double sq = 0;
        for (double x : g[0]) sq += x * x;
        for (double x : h) sq += x * x;
        double norm = Math.sqrt(sq), scale = Math.min(1, max / (norm + 1e-6));
        assertTrue(norm > 4 * max, "the test needs gradients large enough to clip, norm " + norm);
        try (Kiln kiln = open()) {
            Parameter p = param(p0), q = param(q0);
            SGD sgd = new SGD(a);
            sgd.clipGradNorm(max);
            sgd.step(kiln, List.of(p, q), List.of(tensor(kiln, g[0]), tensor(kiln, h)));
            float[] pv = p.value(kiln).toFloatArray(), qv = q.value(kiln).toFloatArray();
            for (int i = 0; i < N; i++) assertClose(p0[i] - a * g[0][i] * scale, pv[i], "p[" + i + "]");
            for (int i = 0; i < 3; i++) assertClose(q0[i] - a * h[i] * scale, qv[i], "q[" + i + "]");
        }
    }

    private void check(Optimizer opt, double[] expected) {
        opt.schedule(step -> lr[(int) step]);
        try (Kiln kiln = open()) {
            Parameter p = param(p0);
            for (int t = 0; t < STEPS; t++) opt.step(kiln, List.of(p), List.of(tensor(kiln, g[t])));
            float[] got = p.value(kiln).toFloatArray();
            double moved = 0;
            for (int i = 0; i < N; i++) {
                assertClose(expected[i], got[i], opt + " parameter " + i);
                moved = Math.max(moved, Math.abs(expected[i] - p0[i]));
            }
            assertTrue(moved > 1e-3, "the parameters should move well beyond the tolerance, moved " + moved);
        }
    }

    private static void assertClose(double expected, double got, String what) {
        assertEquals(expected, got, TOL * Math.max(1, Math.abs(expected)), what);
    }

    private static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    private static Parameter param(double[] init) {
        return new Parameter(Shape.of(init.length), (v, r) -> { for (int i = 0; i < v.length; i++) v[i] = (float) init[i]; });
    }

    private static Tensor tensor(Kiln kiln, double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return kiln.tensor(f, d.length);
    }

    /** Values exactly representable in f32, so the float64 reference starts from the same numbers. */
    private double[] random(int n, double scale) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = (float) (rnd.nextDouble(-scale, scale));
        return d;
    }
}
