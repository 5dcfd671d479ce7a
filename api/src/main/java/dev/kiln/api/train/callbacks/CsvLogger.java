package dev.kiln.api.train.callbacks;

import dev.kiln.api.train.Callback;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.History;
import dev.kiln.api.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * One CSV row per epoch, flushed at once so a crashed or running job can be plotted, as Keras'
 * {@code CSVLogger}: {@code epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_second},
 * then for each of the trainer's {@link dev.kiln.api.train.Metric}s its name and {@code val_<name>}.
 * Missing values (no validation set, no accuracy for regression) are empty cells.
 */
public final class CsvLogger implements Callback {
    /** Reports only: in a process group, rank 0 alone prints or writes. */
    @Override public boolean mainProcessOnly() { return true; }

    static final String HEADER = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_second";
    private final Path path;
    private final boolean append;
    private Writer out;
    private Trainer trainer;
    private java.util.List<String> metricColumns = java.util.List.of();

    /** Writes a new file (replacing an old one). */
    public CsvLogger(Path path) { this(path, false); }

    /** With {@code append}, a resumed run adds its rows to the existing file. */
    public CsvLogger(Path path, boolean append) {
        this.path = path;
        this.append = append;
    }

    @Override public void onTrainBegin(Trainer t, int epochs) {
        trainer = t;
        metricColumns = new java.util.ArrayList<>();
        for (var m : t.metrics()) metricColumns.add(m.name());
        for (var m : t.metrics()) metricColumns.add("val_" + m.name());
        try {
            boolean header = !append || !Files.exists(path) || Files.size(path) == 0;
            Path parent = path.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            out = append ? Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
                    : Files.newBufferedWriter(path, StandardCharsets.UTF_8);
            if (header) write(HEADER + metricColumns.stream().map(c -> "," + c).collect(java.util.stream.Collectors.joining()));
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot write the CSV log: " + e.getMessage(), e);
        }
    }

    @Override public void onEpochEnd(EpochLogs l) {
        write(String.format(Locale.ROOT, "%d,%s,%s,%s,%s,%s,%.3f,%.1f", l.epoch(), num(l.loss()), num(l.accuracy()), num(l.validationLoss()),
                num(l.validationAccuracy()), num(trainer.optimizer().learningRate()), l.seconds(), l.samplesPerSecond())
                + metricColumns.stream().map(c -> "," + num(l.metrics().getOrDefault(c, Double.NaN))).collect(java.util.stream.Collectors.joining()));
    }

    @Override public void onTrainEnd(History history) {
        try {
            if (out != null) out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
        out = null;
    }

    private void write(String line) {
        try {
            out.write(line);
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    private static String num(double v) { return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v); }
}
