package dev.kiln.tck.internal;

import java.util.Random;

/** Draws the values of one test input. Every sampler avoids all-zero tensors and the kinks of its op. */
@FunctionalInterface
public interface Sampler {
    double[] draw(Random random, int n);

    /** Uniform in [lo, hi). */
    static Sampler uniform(double lo, double hi) {
        return (r, n) -> {
            double[] x = new double[n];
            for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * r.nextDouble();
            return x;
        };
    }

    /** Magnitude uniform in [lo, hi), random sign: keeps relu and abs off their kink, divisors off zero. */
    static Sampler nonZero(double lo, double hi) {
        return (r, n) -> {
            double[] x = uniform(lo, hi).draw(r, n);
            for (int i = 0; i < n; i++) if (r.nextBoolean()) x[i] = -x[i];
            return x;
        };
    }

    /** Integers in [lo, hi): indices, labels, and values where ties must be exact. */
    static Sampler integers(int lo, int hi) {
        return (r, n) -> {
            double[] x = new double[n];
            for (int i = 0; i < n; i++) x[i] = lo + r.nextInt(hi - lo);
            return x;
        };
    }

    /** Random 0/1 with at least one of each when there is room, so a select sees both branches. */
    static Sampler bools() {
        return (r, n) -> {
            double[] x = integers(0, 2).draw(r, n);
            if (n >= 2) {
                x[0] = 1;
                x[n - 1] = 0;
            }
            return x;
        };
    }

    /** For casts: a mix of exact zeros, exact integers and fractions of both signs in (-5, 5). */
    static Sampler castable() {
        return (r, n) -> {
            double[] x = uniform(-5, 5).draw(r, n);
            for (int i = 0; i < n; i++) {
                if (i % 4 == 1) x[i] = 0;
                else if (i % 4 == 2) x[i] = Math.rint(x[i]);
            }
            if (n == 1) x[0] = -2.75;
            return x;
        };
    }

    /**
     * For int8 quantization: the first element is +-{@code maxAbs}, so the per-tensor scale is
     * {@code maxAbs / 127} on every plugin, and every other element lies within 0.4 of a multiple of
     * that scale, so {@code round(x / scale)} is unambiguous however a kernel divides.
     */
    static Sampler quantizable(double maxAbs) {
        return (r, n) -> {
            double[] x = new double[n];
            double step = maxAbs / 127;
            for (int i = 0; i < n; i++) x[i] = step * (r.nextInt(-126, 127) + 0.8 * (r.nextDouble() - 0.5));
            if (n > 0) x[0] = r.nextBoolean() ? maxAbs : -maxAbs;
            return x;
        };
    }

    /** The same value everywhere (seeds, step counters). */
    static Sampler constant(double v) {
        return (r, n) -> {
            double[] x = new double[n];
            java.util.Arrays.fill(x, v);
            return x;
        };
    }
}
