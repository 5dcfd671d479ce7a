package dev.kiln.api.train;

/** Classification metrics computed on the host from a step's output. */
final class Metrics {
    private Metrics() {}

    /** How many rows of {@code logits} [n, c] have their largest entry at the label. */
    static int correct(float[] logits, int[] labels, int n) {
        if (n == 0 || logits.length % n != 0) return 0;
        int c = logits.length / n, hits = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < c; j++) if (logits[i * c + j] > logits[i * c + best]) best = j;
            if (best == labels[i]) hits++;
        }
        return hits;
    }
}
