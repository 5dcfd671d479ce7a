package dev.kiln.api.train.callbacks;

import dev.kiln.api.train.EpochLogs;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * A per-epoch quantity a callback watches, named as Keras names it ({@code val_loss}): the loss
 * and accuracy constants, or any {@link dev.kiln.api.train.Metric} by its logged name with
 * {@link #min} or {@link #max} (Keras' {@code monitor="val_mae", mode="min"}).
 */
public final class Monitor {
    public static final Monitor LOSS = new Monitor("loss", false, EpochLogs::loss);
    public static final Monitor ACCURACY = new Monitor("accuracy", true, EpochLogs::accuracy);
    public static final Monitor VAL_LOSS = new Monitor("val_loss", false, EpochLogs::validationLoss);
    public static final Monitor VAL_ACCURACY = new Monitor("val_accuracy", true, EpochLogs::validationAccuracy);

    private final String label;
    private final boolean higherIsBetter;
    /** Null for a metric, read from {@link EpochLogs#metrics()} by label. */
    private final ToDoubleFunction<EpochLogs> read;

    private Monitor(String label, boolean higherIsBetter, ToDoubleFunction<EpochLogs> read) {
        this.label = label;
        this.higherIsBetter = higherIsBetter;
        this.read = read;
    }

    /** The metric logged as {@code name} (e.g. {@code "val_rmse"}), lower being better. */
    public static Monitor min(String name) { return new Monitor(Objects.requireNonNull(name, "name"), false, null); }

    /** The metric logged as {@code name} (e.g. {@code "val_binary_accuracy"}), higher being better. */
    public static Monitor max(String name) { return new Monitor(Objects.requireNonNull(name, "name"), true, null); }

    public String label() { return label; }

    public boolean higherIsBetter() { return higherIsBetter; }

    /**
     * The value in {@code logs}; a validation quantity without a validation set, accuracy where
     * it is not measured, and a metric that was not logged are errors that say what to do.
     */
    public double of(EpochLogs logs) {
        boolean validation = label.startsWith("val_");
        if (validation && !logs.hasValidation()) {
            throw new IllegalStateException("monitoring " + label + " needs validation data: pass a validation set to fit "
                    + "or set Trainer.builder(...).validationSplit(0.1)");
        }
        if (read == null) {
            Double v = logs.metrics().get(label);
            if (v == null) {
                throw new IllegalStateException("monitoring " + label + ": epoch " + logs.epoch() + " logged no such metric, only "
                        + logs.metrics().keySet() + "; add it with Trainer.builder(...).metrics(...)");
            }
            return v;
        }
        double v = read.applyAsDouble(logs);
        if (Double.isNaN(v) && (this == ACCURACY || this == VAL_ACCURACY)) {
            throw new IllegalStateException("monitoring " + label + ": accuracy is measured only for one class label per example;"
                    + " monitor a metric instead, e.g. Monitor.min(\"val_rmse\") with Trainer.builder(...).metrics(Metric.rootMeanSquaredError())");
        }
        return v;
    }

    /** True when {@code candidate} beats {@code best} by more than {@code minDelta}. */
    boolean improves(double candidate, double best, double minDelta) {
        if (Double.isNaN(best)) return !Double.isNaN(candidate);
        return higherIsBetter ? candidate > best + minDelta : candidate < best - minDelta;
    }

    @Override public boolean equals(Object o) {
        return o instanceof Monitor m && m.label.equals(label) && m.higherIsBetter == higherIsBetter;
    }

    @Override public int hashCode() { return label.hashCode() * 31 + Boolean.hashCode(higherIsBetter); }

    @Override public String toString() { return label; }
}
