package dev.kiln.runtime.dist;

/** A collective did not finish within the group's timeout; the message names the ranks that had not arrived. */
public final class CollectiveTimeoutException extends CollectiveException {
    public CollectiveTimeoutException(String message) { super(message); }
}
