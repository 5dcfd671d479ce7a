package dev.kiln.api.train.callbacks;

import dev.kiln.api.train.Callback;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.Trainer;
import java.nio.file.Path;

/**
 * Saves the training state ({@link Trainer#save}, atomic) after every epoch, or only after epochs
 * that improve the monitored quantity, as Keras' {@code ModelCheckpoint(save_best_only=True)}. The
 * file can seed {@link Trainer#restore} or, for the weights alone,
 * {@link dev.kiln.api.checkpoint.ModelWeights#load}.
 */
public final class ModelCheckpoint implements Callback {
    private final Path path;
    private final Monitor monitor;
    private final boolean bestOnly;
    private Trainer trainer;
    private double best;
    private int saves;

    /** Keeps the best epoch by {@code monitor} at {@code path}. */
    public static ModelCheckpoint best(Path path, Monitor monitor) { return new ModelCheckpoint(path, monitor, true); }

    /** Overwrites {@code path} after every epoch. */
    public static ModelCheckpoint everyEpoch(Path path) { return new ModelCheckpoint(path, Monitor.LOSS, false); }

    private ModelCheckpoint(Path path, Monitor monitor, boolean bestOnly) {
        this.path = path;
        this.monitor = monitor;
        this.bestOnly = bestOnly;
    }

    @Override public void onTrainBegin(Trainer t, int epochs) {
        trainer = t;
        best = Double.NaN;
    }

    @Override public void onEpochEnd(EpochLogs logs) {
        if (bestOnly) {
            double v = monitor.of(logs);
            if (!monitor.improves(v, best, 0)) return;
            best = v;
        }
        trainer.save(path);
        saves++;
    }

    /** How many times the file was written. */
    public int saves() { return saves; }
}
