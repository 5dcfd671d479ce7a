package dev.kiln.api;

/**
 * Where a {@link Kiln}'s random stream stands: its seed and how many values it has handed out.
 * The stream is counter-based, so this pair is the whole state; restoring it with
 * {@link Kiln#restoreRngState} makes the following parameter initialisations and dropout masks
 * repeat exactly, which is what a resumed training run needs.
 */
public record RngState(long seed, long position) {
    public RngState {
        if (position < 0) throw new IllegalArgumentException("RNG position must be >= 0, got " + position);
    }
}
