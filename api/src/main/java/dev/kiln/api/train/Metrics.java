package dev.kiln.api.train;

/** Classification metrics computed on the host from a step's output. */
final class Metrics {
    private Metrics() {}

    /**
     * Refuses a dataset that claims more classes than the model has outputs: its labels would
     * index past a row of logits. PyTorch's cross-entropy and Keras' sparse one refuse such labels
     * too; fewer classes than outputs is fine, as there.
     */
    static void requireOutputPerClass(int outputs, dev.kiln.api.data.Dataset data) {
        if (data.numClasses() > outputs) {
            throw new IllegalArgumentException("the dataset " + data + " has " + data.numClasses() + " classes but the model outputs "
                    + outputs + " values per example; give the last layer " + data.numClasses() + " outputs");
        }
    }

    /** How many rows of {@code logits} [n, c] have their largest entry at the label. */
    static int correct(float[] logits, int[] labels, int n) {
        if (n == 0 || logits.length % n != 0) return 0;
        int c = logits.length / n, hits = 0;
        for (int i = 0; i < n; i++) if (argmax(logits, i * c, c) == labels[i]) hits++;
        return hits;
    }

    /**
     * How many labels are among their row's {@code k} largest entries. Ties rank the lower index
     * first, as {@link #argmax} does, so top-1 agrees with {@link #correct}.
     */
    static int topKCorrect(float[] logits, int[] labels, int n, int k) {
        if (n == 0 || logits.length % n != 0) return 0;
        int c = logits.length / n, hits = 0;
        for (int i = 0; i < n; i++) {
            float target = logits[i * c + labels[i]];
            int above = 0;
            for (int j = 0; j < c; j++) if (logits[i * c + j] > target || (logits[i * c + j] == target && j < labels[i])) above++;
            if (above < k) hits++;
        }
        return hits;
    }

    /** Adds each row's (label, arg-max) pair. */
    static void confusion(ConfusionMatrix m, float[] logits, int[] labels, int n) {
        if (n == 0 || logits.length % n != 0) return;
        int c = logits.length / n;
        for (int i = 0; i < n; i++) m.add(labels[i], argmax(logits, i * c, c));
    }

    /** Index of the first largest of {@code c} entries from {@code at}. */
    static int argmax(float[] v, int at, int c) {
        int best = 0;
        for (int j = 1; j < c; j++) if (v[at + j] > v[at + best]) best = j;
        return best;
    }
}
