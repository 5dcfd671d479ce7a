package dev.kiln.api.train.callbacks;

import dev.kiln.api.train.EpochLogs;

/** A per-epoch quantity a callback watches, named as Keras names it ({@code val_loss}). */
public enum Monitor {
    LOSS("loss", false), ACCURACY("accuracy", true), VAL_LOSS("val_loss", false), VAL_ACCURACY("val_accuracy", true);

    private final String label;
    private final boolean higherIsBetter;

    Monitor(String label, boolean higherIsBetter) {
        this.label = label;
        this.higherIsBetter = higherIsBetter;
    }

    public String label() { return label; }

    public boolean higherIsBetter() { return higherIsBetter; }

    /** The value in {@code logs}; a validation quantity without a validation set is an error that says how to get one. */
    public double of(EpochLogs logs) {
        double v = switch (this) {
            case LOSS -> logs.loss();
            case ACCURACY -> logs.accuracy();
            case VAL_LOSS -> logs.validationLoss();
            case VAL_ACCURACY -> logs.validationAccuracy();
        };
        if (Double.isNaN(v) && (this == VAL_LOSS || this == VAL_ACCURACY) && !logs.hasValidation()) {
            throw new IllegalStateException("monitoring " + label + " needs validation data: pass a validation set to fit "
                    + "or set Trainer.builder(...).validationSplit(0.1)");
        }
        return v;
    }

    /** True when {@code candidate} beats {@code best} by more than {@code minDelta}. */
    boolean improves(double candidate, double best, double minDelta) {
        if (Double.isNaN(best)) return !Double.isNaN(candidate);
        return higherIsBetter ? candidate > best + minDelta : candidate < best - minDelta;
    }

    @Override public String toString() { return label; }
}
