package dev.kiln.api.dist;

/** The ranks of a {@link ProcessGroup} could not meet: rank 0 unreachable or gone, a request refused. */
public class ProcessGroupException extends RuntimeException {
    public ProcessGroupException(String message, Throwable cause) { super(message, cause); }
}
