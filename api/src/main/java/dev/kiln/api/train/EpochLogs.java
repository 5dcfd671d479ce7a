package dev.kiln.api.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one epoch measured; validation fields are NaN when there was no validation set, and
 * accuracies are NaN when the targets are not one class label per example. {@code metrics}
 * holds the {@link Trainer.Builder#metrics} over the epoch's training batches by name, then over
 * the validation set as {@code val_<name>}, as Keras' epoch logs.
 */
public record EpochLogs(int epoch, int epochs, double loss, double accuracy, double seconds, double samplesPerSecond,
                        double validationLoss, double validationAccuracy, Map<String, Double> metrics) {
    public EpochLogs {
        metrics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    public EpochLogs(int epoch, int epochs, double loss, double accuracy, double seconds, double samplesPerSecond,
                     double validationLoss, double validationAccuracy) {
        this(epoch, epochs, loss, accuracy, seconds, samplesPerSecond, validationLoss, validationAccuracy, Map.of());
    }

    public boolean hasValidation() { return !Double.isNaN(validationLoss); }

    /** The metric named {@code name} ({@code val_<name>} for validation); an error names the ones there are. */
    public double metric(String name) {
        Double v = metrics.get(name);
        if (v == null) throw new IllegalArgumentException("epoch " + epoch + " logged no metric '" + name + "'; it has " + metrics.keySet());
        return v;
    }
}
