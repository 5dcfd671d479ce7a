package dev.kiln.plot;

import dev.kiln.api.train.Callback;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.History;
import dev.kiln.api.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Redraws the training curves after every epoch, so a long run can be watched by reloading the
 * SVG or HTML in a browser: {@code <base>.svg} and {@code <base>.html}.
 */
public final class PlotCallback implements Callback {
    /** Reports only: in a process group, rank 0 alone prints or writes. */
    @Override public boolean mainProcessOnly() { return true; }

    private final Path svg, html;
    private final String title;
    private final List<EpochLogs> epochs = new ArrayList<>();

    /** Writes {@code base + ".svg"} and {@code base + ".html"}. */
    public PlotCallback(Path base, String title) {
        this.svg = base.resolveSibling(base.getFileName() + ".svg");
        this.html = base.resolveSibling(base.getFileName() + ".html");
        this.title = title;
    }

    public Path svg() { return svg; }

    public Path html() { return html; }

    @Override public void onTrainBegin(Trainer trainer, int epochs) { this.epochs.clear(); }

    @Override public void onEpochEnd(EpochLogs logs) {
        epochs.add(logs);
        TrainingCurves.write(new History(epochs), title, svg, html);
    }
}
