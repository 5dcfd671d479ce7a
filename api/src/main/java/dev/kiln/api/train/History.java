package dev.kiln.api.train;

import java.util.List;

/** Per-epoch logs of a {@code fit}, in order. */
public record History(List<EpochLogs> epochs) {
    public History { epochs = List.copyOf(epochs); }

    public EpochLogs last() { return epochs.getLast(); }
}
