package dev.kiln.api.train;

import java.util.Arrays;

/**
 * Counts of (true class, predicted class) pairs over an evaluation: row = the label, column =
 * the class with the largest output. Read {@code count(actual, predicted)}; the diagonal holds the
 * hits.
 */
public final class ConfusionMatrix {
    private final long[][] counts;

    public ConfusionMatrix(int classes) {
        if (classes <= 0) throw new IllegalArgumentException("a confusion matrix needs at least one class, got " + classes);
        counts = new long[classes][classes];
    }

    public int classes() { return counts.length; }

    public long count(int actual, int predicted) { return counts[actual][predicted]; }

    public long total() { return Arrays.stream(counts).flatMapToLong(Arrays::stream).sum(); }

    /** Fraction of examples on the diagonal. */
    public double accuracy() {
        long hits = 0;
        for (int i = 0; i < counts.length; i++) hits += counts[i][i];
        return (double) hits / total();
    }

    /** Of the examples labelled {@code c}, the fraction predicted as {@code c}; NaN if there are none. */
    public double recall(int c) {
        long row = Arrays.stream(counts[c]).sum();
        return (double) counts[c][c] / row;
    }

    /** Of the examples predicted as {@code c}, the fraction labelled {@code c}; NaN if there are none. */
    public double precision(int c) {
        long col = 0;
        for (long[] r : counts) col += r[c];
        return (double) counts[c][c] / col;
    }

    /** Adds {@code n} examples of {@code actual} predicted as {@code predicted} (summing ranks' matrices). */
    void add(int actual, int predicted, long n) { counts[actual][predicted] += n; }

    void add(int actual, int predicted) {
        if (actual < 0 || actual >= counts.length) {
            throw new IllegalArgumentException("label " + actual + " outside the " + counts.length + " classes of the confusion matrix");
        }
        counts[actual][predicted]++;
    }

    /** A table with one row per true class, as {@code sklearn.metrics.confusion_matrix} prints it. */
    @Override public String toString() {
        int w = Math.max(4, Long.toString(Arrays.stream(counts).flatMapToLong(Arrays::stream).max().orElse(0)).length() + 1);
        StringBuilder sb = new StringBuilder(String.format("%-8s", "true\\pred"));
        for (int j = 0; j < counts.length; j++) sb.append(String.format("%" + w + "d", j));
        sb.append(String.format("%10s%n", "recall"));
        for (int i = 0; i < counts.length; i++) {
            sb.append(String.format("%-9d", i));
            for (int j = 0; j < counts.length; j++) sb.append(String.format("%" + w + "d", counts[i][j]));
            sb.append(String.format("%10.3f%n", recall(i)));
        }
        return sb.toString();
    }
}
