package dev.kiln.api.data;

import java.nio.file.Path;

/**
 * A dataset could not be found or read: a missing directory, a truncated or corrupt file, or
 * files that do not agree with each other. Unchecked, like every other user mistake in Kiln, so
 * that a training script is not forced to declare it; the message always names the file (or
 * the places searched), what was expected and what was found.
 */
public class DatasetException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Path path; // Path is not Serializable; the message keeps it anyway

    public DatasetException(Path path, String message) {
        this(path, message, null);
    }

    public DatasetException(Path path, String message, Throwable cause) {
        super(path == null ? message : path + ": " + message, cause);
        this.path = path;
    }

    /** The file or directory at fault, or {@code null} when no single one is (e.g. not found anywhere). */
    public Path path() { return path; }
}
