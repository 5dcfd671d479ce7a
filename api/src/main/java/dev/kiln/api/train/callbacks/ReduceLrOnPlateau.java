package dev.kiln.api.train.callbacks;

import dev.kiln.api.optim.Optimizer;
import dev.kiln.api.train.Callback;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.Trainer;

/**
 * Multiplies the learning rate by {@code factor} when the monitored quantity has not improved for
 * {@code patience} epochs, down to {@code minLr}, as Keras' {@code ReduceLROnPlateau}. The rate is
 * an input of the compiled step, so this never recompiles. It drives a constant rate: an optimizer
 * with an {@link dev.kiln.api.optim.LrSchedule} is refused, since the schedule would overrule it.
 */
public final class ReduceLrOnPlateau implements Callback {
    private final Monitor monitor;
    private final double factor, minLr;
    private final int patience;
    private Optimizer optimizer;
    private double best;
    private int wait, reductions;

    public ReduceLrOnPlateau(Monitor monitor, double factor, int patience, double minLr) {
        if (!(factor > 0 && factor < 1)) throw new IllegalArgumentException("factor must be in (0, 1), got " + factor);
        if (patience < 0) throw new IllegalArgumentException("patience must be >= 0, got " + patience);
        if (!(minLr >= 0)) throw new IllegalArgumentException("minLr must be >= 0, got " + minLr);
        this.monitor = monitor;
        this.factor = factor;
        this.patience = patience;
        this.minLr = minLr;
    }

    @Override public void onTrainBegin(Trainer t, int epochs) {
        optimizer = t.optimizer();
        if (optimizer.schedule() != null) {
            throw new IllegalStateException("ReduceLrOnPlateau drives a constant learning rate, but " + optimizer
                    + " follows a schedule; use one or the other");
        }
        best = Double.NaN;
        wait = 0;
    }

    @Override public void onEpochEnd(EpochLogs logs) {
        double v = monitor.of(logs);
        if (monitor.improves(v, best, 0)) {
            best = v;
            wait = 0;
        } else if (++wait > patience) {
            double lr = Math.max(minLr, optimizer.learningRate() * factor);
            if (lr < optimizer.learningRate()) {
                optimizer.setLearningRate(lr);
                reductions++;
            }
            wait = 0;
        }
    }

    /** How many times the rate was lowered. */
    public int reductions() { return reductions; }
}
