package dev.kiln.api.train;

/** Hooks into {@link Trainer#fit}; implement what you need. Call {@link Trainer#stop()} to end training early. */
public interface Callback {
    default void onTrainBegin(Trainer trainer, int epochs) {}

    default void onEpochBegin(int epoch, int epochs, int steps) {}

    /** After each step, with running means over the epoch so far. */
    default void onBatchEnd(int step, int steps, double meanLoss, double meanAccuracy, long samples, double seconds) {}

    default void onEpochEnd(EpochLogs logs) {}

    default void onTrainEnd(History history) {}
}
