package dev.kiln.api.train;

/**
 * What {@link Trainer#evaluate} measured: mean loss, accuracy, the fraction of labels among the
 * {@code topK} largest outputs ({@code topK} = 0 and NaN when not computed), and the confusion
 * matrix (null when not computed).
 */
public record Evaluation(double loss, double accuracy, int samples, int topK, double topKAccuracy, ConfusionMatrix confusion) {
    public Evaluation(double loss, double accuracy, int samples) { this(loss, accuracy, samples, 0, Double.NaN, null); }

    @Override public String toString() {
        return String.format("Evaluation[loss=%.4f, accuracy=%.4f%s, samples=%d]", loss, accuracy,
                topK > 0 ? String.format(", top%d=%.4f", topK, topKAccuracy) : "", samples);
    }
}
