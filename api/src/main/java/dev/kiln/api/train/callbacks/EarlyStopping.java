package dev.kiln.api.train.callbacks;

import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.train.Callback;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.History;
import dev.kiln.api.train.Trainer;
import java.util.Map;

/**
 * Stops training when the monitored quantity has not improved for {@code patience} epochs, as
 * Keras' {@code EarlyStopping}; optionally puts back the parameters of the best epoch at the end
 * (kept as a host copy, so it costs one model's worth of memory).
 */
public final class EarlyStopping implements Callback {
    private final Monitor monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBest;
    private Trainer trainer;
    private double best;
    private int bestEpoch, wait, stoppedEpoch;
    private Map<String, StoredTensor> bestWeights;

    public EarlyStopping(Monitor monitor, int patience) { this(monitor, patience, 0, true); }

    public EarlyStopping(Monitor monitor, int patience, double minDelta, boolean restoreBest) {
        if (patience < 0) throw new IllegalArgumentException("patience must be >= 0, got " + patience);
        if (!(minDelta >= 0)) throw new IllegalArgumentException("minDelta must be >= 0, got " + minDelta);
        this.monitor = monitor;
        this.patience = patience;
        this.minDelta = minDelta;
        this.restoreBest = restoreBest;
    }

    @Override public void onTrainBegin(Trainer t, int epochs) {
        trainer = t;
        best = Double.NaN;
        bestEpoch = wait = stoppedEpoch = 0;
        bestWeights = null;
    }

    @Override public void onEpochEnd(EpochLogs logs) {
        double v = monitor.of(logs);
        if (monitor.improves(v, best, minDelta)) {
            best = v;
            bestEpoch = logs.epoch();
            wait = 0;
            if (restoreBest) bestWeights = ModelWeights.capture(trainer.model(), trainer.kiln());
        } else if (++wait > patience) {
            stoppedEpoch = logs.epoch();
            trainer.stop();
        }
    }

    @Override public void onTrainEnd(History history) {
        if (restoreBest && bestWeights != null && !history.epochs().isEmpty() && bestEpoch != history.last().epoch()) {
            ModelWeights.apply(trainer.model(), trainer.kiln(), bestWeights, null);
        }
    }

    /** The epoch training was stopped after, or 0 if it ran to the end. */
    public int stoppedEpoch() { return stoppedEpoch; }

    /** The epoch with the best monitored value (1-based), 0 before any. */
    public int bestEpoch() { return bestEpoch; }

    public double bestValue() { return best; }
}
