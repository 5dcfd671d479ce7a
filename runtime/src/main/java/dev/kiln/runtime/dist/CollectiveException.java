package dev.kiln.runtime.dist;

/**
 * A collective could not complete: a peer closed its connection, went silent past the timeout,
 * or made a different call. The message names the operation, this rank and the peer.
 */
public class CollectiveException extends RuntimeException {
    public CollectiveException(String message) { super(message); }

    public CollectiveException(String message, Throwable cause) { super(message, cause); }
}
