package dev.kiln.api.checkpoint;

import java.nio.file.Path;

/**
 * A checkpoint could not be written, read or applied: a file cut short, a corrupt header, a tensor
 * missing or of the wrong shape for the model. Unchecked like every user mistake in Kiln; the
 * message names the file and what is wrong with it.
 */
public class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Path path;

    public CheckpointException(Path path, String message) { this(path, message, null); }

    public CheckpointException(Path path, String message, Throwable cause) {
        super(path == null ? message : path + ": " + message, cause);
        this.path = path;
    }

    /** The file at fault, or null when the data did not come from a file. */
    public Path path() { return path; }
}
