package dev.kiln.api.train;

/** Hooks into {@link Trainer#fit}; implement what you need. Call {@link Trainer#stop()} to end training early. */
public interface Callback {
    /**
     * True for callbacks that only report (progress bars, log files, plots): in a process group
     * they run on rank 0 alone. Callbacks that act on training (early stopping, checkpoints,
     * learning-rate changes) run on every rank, where they see the same summed metrics.
     */
    default boolean mainProcessOnly() { return false; }

    default void onTrainBegin(Trainer trainer, int epochs) {}

    default void onEpochBegin(int epoch, int epochs, int steps) {}

    /**
     * After each step, with running means over the epoch so far ({@code meanAccuracy} is NaN
     * when the targets are not one class label per example).
     */
    default void onBatchEnd(int step, int steps, double meanLoss, double meanAccuracy, long samples, double seconds) {}

    /**
     * After each training batch, before {@link #onBatchEnd}, with that batch's own loss, output
     * and targets. Costs nothing extra: the step brings its loss and output to the host anyway.
     */
    default void onTrainBatchEnd(BatchLogs logs) {}

    default void onEpochEnd(EpochLogs logs) {}

    default void onTrainEnd(History history) {}
}
