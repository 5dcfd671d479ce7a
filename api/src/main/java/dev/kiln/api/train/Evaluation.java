package dev.kiln.api.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@link Trainer#evaluate} measured: mean loss, accuracy, the fraction of labels among the
 * {@code topK} largest outputs ({@code topK} = 0 and NaN when not computed), the confusion
 * matrix (null when not computed), and the value of every {@link Metric} asked for, by
 * {@link Metric#name()}, in the order given. Accuracy, top-k and the confusion matrix are
 * measured only for one integer class label per example; for other targets accuracy is NaN.
 */
public record Evaluation(double loss, double accuracy, int samples, int topK, double topKAccuracy, ConfusionMatrix confusion,
                         Map<String, Double> metrics) {
    public Evaluation {
        metrics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    public Evaluation(double loss, double accuracy, int samples, int topK, double topKAccuracy, ConfusionMatrix confusion) {
        this(loss, accuracy, samples, topK, topKAccuracy, confusion, Map.of());
    }

    public Evaluation(double loss, double accuracy, int samples) { this(loss, accuracy, samples, 0, Double.NaN, null); }

    /** The value of the metric named {@code name}; an error names the metrics there are. */
    public double metric(String name) {
        Double v = metrics.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no metric '" + name + "' was measured; there are " + metrics.keySet()
                    + " (ask for more with Trainer.Builder.metrics or evaluate(data, metrics...))");
        }
        return v;
    }

    @Override public String toString() {
        StringBuilder m = new StringBuilder();
        metrics.forEach((k, v) -> m.append(String.format(", %s=%.4f", k, v)));
        return String.format("Evaluation[loss=%.4f%s%s%s, samples=%d]", loss, Double.isNaN(accuracy) ? "" : String.format(", accuracy=%.4f", accuracy),
                topK > 0 ? String.format(", top%d=%.4f", topK, topKAccuracy) : "", m, samples);
    }
}
