package dev.kiln.accel.onednn;

/** An MPI call returned an error code (the communicator's handler is MPI_ERRORS_RETURN, so MPI did not abort). */
final class MpiException extends RuntimeException {
    private final String call;
    private final int code;

    MpiException(String call, int code, String mpiMessage) {
        super(call + " failed: " + mpiMessage + " (MPI error " + code + ")");
        this.call = call;
        this.code = code;
    }

    /** The MPI function that failed, e.g. "MPI_Bcast". */
    String call() { return call; }

    /** The error code MPI returned. */
    int code() { return code; }
}
