package dev.kiln.api.internal;

import dev.kiln.api.checkpoint.CheckpointException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Typed fields of a checkpoint's metadata (all strings in the file). A field that is missing,
 * malformed or out of its range is a {@link CheckpointException} naming the file and the key, so
 * a restore can read and check every field before it changes anything.
 */
public final class MetadataFields {
    private final Path path;
    private final Map<String, String> meta;

    public MetadataFields(Path path, Map<String, String> meta) {
        this.path = path;
        this.meta = meta;
    }

    public boolean has(String key) { return meta.containsKey(key); }

    public String text(String key) {
        String v = meta.get(key);
        if (v == null) throw new CheckpointException(path, "metadata lacks \"" + key + "\"");
        return v;
    }

    /** An integer in {@code [min, max]}. */
    public long integer(String key, long min, long max) {
        String v = text(key);
        long x;
        try {
            x = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw fault(key, "is not an integer: " + v);
        }
        if (x < min || x > max) throw fault(key, "must be in [" + min + ", " + max + "], got " + x);
        return x;
    }

    /** Any double, NaN and infinities included: running sums of a run that diverged are such. */
    public double number(String key) {
        String v = text(key);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw fault(key, "is not a number: " + v);
        }
    }

    /** A finite number of at least {@code min}, or above it when {@code exclusive}. */
    public double finite(String key, double min, boolean exclusive) {
        double x = number(key);
        if (!Double.isFinite(x) || x < min || (exclusive && x == min)) {
            throw fault(key, "must be finite and " + (exclusive ? "> " : ">= ") + min + ", got " + x);
        }
        return x;
    }

    /** A finite whole number of at least 0, stored as a decimal (loss-scaling counters live in floats). */
    public double count(String key) {
        double x = finite(key, 0, false);
        if (x != Math.rint(x)) throw fault(key, "must be a whole number, got " + x);
        return x;
    }

    public CheckpointException fault(String key, String problem) {
        return new CheckpointException(path, "metadata \"" + key + "\" " + problem);
    }
}
