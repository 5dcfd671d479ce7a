package dev.kiln.runtime.dist;

/** A collective failed on this rank: a peer left, a plugin call failed, or (as the subclass says) it timed out. */
public class CollectiveException extends RuntimeException {
    public CollectiveException(String message) { super(message); }

    public CollectiveException(String message, Throwable cause) { super(message, cause); }
}
