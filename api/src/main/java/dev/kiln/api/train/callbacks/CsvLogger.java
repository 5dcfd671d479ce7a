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
 * {@code CSVLogger}: {@code epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_second}.
 * Missing validation values are empty cells.
 */
public final class CsvLogger implements Callback {
    /** Reports only: in a process group, rank 0 alone prints or writes. */
    @Override public boolean mainProcessOnly() { return true; }

    static final String HEADER = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_second";
    private final Path path;
    private final boolean append;
    private Writer out;
    private Trainer trainer;

    /** Writes a new file (replacing an old one). */
    public CsvLogger(Path path) { this(path, false); }

    /** With {@code append}, a resumed run adds its rows to the existing file. */
    public CsvLogger(Path path, boolean append) {
        this.path = path;
        this.append = append;
    }

    @Override public void onTrainBegin(Trainer t, int epochs) {
        trainer = t;
        try {
            boolean header = !append || !Files.exists(path) || Files.size(path) == 0;
            Path parent = path.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            out = append ? Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
                    : Files.newBufferedWriter(path, StandardCharsets.UTF_8);
            if (header) write(HEADER);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot write the CSV log: " + e.getMessage(), e);
        }
    }

    @Override public void onEpochEnd(EpochLogs l) {
        write(String.format(Locale.ROOT, "%d,%s,%s,%s,%s,%s,%.3f,%.1f", l.epoch(), num(l.loss()), num(l.accuracy()), num(l.validationLoss()),
                num(l.validationAccuracy()), num(trainer.optimizer().learningRate()), l.seconds(), l.samplesPerSecond()));
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
