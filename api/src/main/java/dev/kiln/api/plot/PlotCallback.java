package dev.kiln.api.plot;

import dev.kiln.api.train.Callback;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.History;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Redraws the training curves after every epoch, so a long run can be watched by reloading the
 * PNG or HTML: {@code <base>.png} and {@code <base>.html}.
 */
public final class PlotCallback implements Callback {
    private final Path png, html;
    private final String title;
    private final List<EpochLogs> epochs = new ArrayList<>();

    /** Writes {@code base + ".png"} and {@code base + ".html"}. */
    public PlotCallback(Path base, String title) {
        this.png = base.resolveSibling(base.getFileName() + ".png");
        this.html = base.resolveSibling(base.getFileName() + ".html");
        this.title = title;
    }

    public Path png() { return png; }

    public Path html() { return html; }

    @Override public void onTrainBegin(dev.kiln.api.train.Trainer trainer, int epochs) { this.epochs.clear(); }

    @Override public void onEpochEnd(EpochLogs logs) {
        epochs.add(logs);
        TrainingCurves.write(new History(epochs), title, png, html);
    }

    @Override public void onTrainEnd(History history) {}
}
