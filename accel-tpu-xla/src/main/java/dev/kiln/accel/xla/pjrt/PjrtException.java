package dev.kiln.accel.xla.pjrt;

/** A PJRT call failed: what Kiln was doing, the plugin's message and its {@code PJRT_Error_Code}. */
public final class PjrtException extends RuntimeException {
    private final int code;

    public PjrtException(String during, int code, String message) {
        super(during + ": " + codeName(code) + ": " + message);
        this.code = code;
    }

    /** The numeric {@code PJRT_Error_Code} (absl status codes; 0 never comes from a real error). */
    public int code() { return code; }

    public String codeName() { return codeName(code); }

    private static final String[] NAMES = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

    /** The {@code PJRT_Error_Code} name without its prefix, or {@code CODE_n} for one the header lacks. */
    public static String codeName(int code) {
        return code >= 0 && code < NAMES.length ? NAMES[code] : "CODE_" + code;
    }
}
