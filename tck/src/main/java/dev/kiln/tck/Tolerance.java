package dev.kiln.tck;

import dev.kiln.core.DType;

/**
 * How close a plugin's result must be to the reference: {@code |actual - expected| <= atol * scale
 * + rtol * |expected|}. {@code scale} is the number of terms a result accumulates (a matmul's inner
 * dimension, a reduction's length), because summation order legitimately changes rounding by
 * about that many ulps of the terms, not of the (possibly cancelled) sum. All the kit's numbers live here.
 */
public record Tolerance(double atol, double rtol) {
    /** Integers and bools must match exactly. */
    public static final Tolerance EXACT = new Tolerance(0, 0);
    public static final Tolerance F64 = new Tolerance(1e-12, 1e-12);
    public static final Tolerance F32 = new Tolerance(1e-6, 1e-5);
    public static final Tolerance HALF = new Tolerance(1e-2, 1e-2);
    /**
     * Gradients computed by the plugin in f32 against central finite differences of the float64
     * reference: looser than forward results because a backward pass chains several f32 ops.
     */
    public static final Tolerance GRADIENT = new Tolerance(1e-4, 1e-3);

    /** The forward tolerance for results of {@code dtype}. */
    public static Tolerance forward(DType dtype) {
        return switch (dtype) {
            case F64 -> F64;
            case F32 -> F32;
            case BF16, F16 -> HALF;
            case I64, I32, I8, BOOL -> EXACT;
        };
    }

    /** Whether {@code actual} is close enough to {@code expected}; NaN only matches NaN, infinities match exactly. */
    public boolean accepts(double actual, double expected, int scale) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) return Double.isNaN(expected) && Double.isNaN(actual);
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) return actual == expected;
        return Math.abs(actual - expected) <= allowed(expected, scale);
    }

    public double allowed(double expected, int scale) { return atol * Math.max(1, scale) + rtol * Math.abs(expected); }
}
