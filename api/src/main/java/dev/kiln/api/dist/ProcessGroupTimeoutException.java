package dev.kiln.api.dist;

/** A barrier did not fill within its timeout: some rank is slow, hung or was never started. */
public final class ProcessGroupTimeoutException extends ProcessGroupException {
    public ProcessGroupTimeoutException(String message) { super(message, null); }
}
