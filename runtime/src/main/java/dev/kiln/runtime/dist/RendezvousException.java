package dev.kiln.runtime.dist;

/** The rendezvous store failed: it could not be reached, went away, or refused a request. */
public class RendezvousException extends RuntimeException {
    public RendezvousException(String message) { super(message); }

    public RendezvousException(String message, Throwable cause) { super(message, cause); }
}
