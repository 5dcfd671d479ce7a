package dev.kiln.api.train;

import java.io.PrintStream;

/**
 * A console progress bar: epoch, step, loss, accuracy, samples/s and ETA, redrawn in place a few
 * times a second, and one summary line per epoch with the {@link EpochLogs#metrics}. Accuracy is
 * left out where it is not measured (targets other than one class label per example).
 */
public final class ProgressBar implements Callback {
    /** Reports only: in a process group, rank 0 alone prints or writes. */
    @Override public boolean mainProcessOnly() { return true; }

    private static final long REDRAW_NANOS = 250_000_000L;
    private final PrintStream out;
    private final boolean redraw;
    private long lastDraw;
    private Trainer trainer;
    private int epoch, epochs;

    /** Redraws in place only when attached to a terminal; otherwise prints epoch lines only. */
    public ProgressBar() { this(System.out, System.console() != null); }

    public ProgressBar(PrintStream out, boolean redraw) {
        this.out = out;
        this.redraw = redraw;
    }

    @Override public void onTrainBegin(Trainer t, int epochs) { trainer = t; }

    @Override public void onEpochBegin(int epoch, int epochs, int steps) {
        lastDraw = 0;
        this.epoch = epoch;
        this.epochs = epochs;
    }

    @Override public void onBatchEnd(int step, int steps, double loss, double acc, long samples, double seconds) {
        if (!redraw) return;
        long now = System.nanoTime();
        if (now - lastDraw < REDRAW_NANOS && step < steps) return;
        lastDraw = now;
        int width = 24, done = (int) ((long) width * step / steps);
        double rate = samples / Math.max(seconds, 1e-9);
        double eta = seconds / step * (steps - step);
        // The learning rate shows because a schedule changes it every step.
        String lr = trainer == null ? "" : String.format(" lr %.2e", trainer.optimizer().learningRate());
        out.printf("\repoch %d/%d %5d/%-5d [%s%s] loss %.4f%s%s %,.0f samples/s ETA %s   ", epoch, epochs, step, steps,
                "=".repeat(done), " ".repeat(width - done), loss, Double.isNaN(acc) ? "" : String.format(" acc %.4f", acc), lr, rate, time(eta));
        out.flush();
    }

    @Override public void onEpochEnd(EpochLogs l) {
        if (redraw) out.print("\r" + " ".repeat(100) + "\r");
        StringBuilder metrics = new StringBuilder();
        l.metrics().forEach((k, v) -> metrics.append(String.format("  %s %.4f", k, v)));
        out.printf("epoch %d/%d  loss %.4f%s%s%s  %.1fs  %,.0f samples/s%n", l.epoch(), l.epochs(), l.loss(),
                Double.isNaN(l.accuracy()) ? "" : String.format("  acc %.4f", l.accuracy()),
                !l.hasValidation() ? "" : String.format("  val_loss %.4f", l.validationLoss())
                        + (Double.isNaN(l.validationAccuracy()) ? "" : String.format("  val_acc %.4f", l.validationAccuracy())),
                metrics, l.seconds(), l.samplesPerSecond());
    }

    private static String time(double s) {
        long t = Math.round(s);
        return String.format("%d:%02d", t / 60, t % 60);
    }
}
