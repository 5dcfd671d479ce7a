package dev.kiln.api.train;

/** What one epoch measured; validation fields are NaN when there was no validation set. */
public record EpochLogs(int epoch, int epochs, double loss, double accuracy, double seconds, double samplesPerSecond,
                        double validationLoss, double validationAccuracy) {
    public boolean hasValidation() { return !Double.isNaN(validationLoss); }
}
