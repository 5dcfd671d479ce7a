package dev.kiln.runtime.dist;

/** A key did not appear, or a barrier did not fill, within its timeout. */
public final class RendezvousTimeoutException extends RendezvousException {
    public RendezvousTimeoutException(String message) { super(message); }
}
