package dev.kiln.accel.xla.tf;

import java.util.Locale;

/** A TensorFlow call that returned a non-OK {@code TF_Status}: its code and message, and what Kiln was doing. */
public final class TfException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** TF_Code's names, by value (tensorflow/c/tf_status.h). */
    private static final String[] CODES = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };

    private final int code;
    private final String tfMessage;

    TfException(String during, int code, String tfMessage) {
        // TF ends its messages with the graph nodes involved, "[[{{node module}}]]": always the
        // one node here, so only noise in Kiln's message (tfMessage() keeps them).
        super(during + ": " + codeName(code) + ": " + tfMessage.replaceAll("\\s*\\[\\[.*?\\]\\]", "").strip() + hint(tfMessage));
        this.code = code;
        this.tfMessage = tfMessage;
    }

    /** TF_Code's value: 3 for INVALID_ARGUMENT, 13 for INTERNAL, ... */
    public int code() { return code; }

    public String codeName() { return codeName(code); }

    /** TensorFlow's message alone, without Kiln's context. */
    public String tfMessage() { return tfMessage; }

    static String codeName(int code) {
        return code >= 0 && code < CODES.length ? CODES[code] : String.format(Locale.ROOT, "TF_Code(%d)", code);
    }

    private static String hint(String tfMessage) {
        // XlaCallModule's loader lets MLIR print its diagnostic, as loc("-":LINE:COL): error: ...,
        // to the process's stderr and keeps none of it in the status; a module that parses but
        // fails the verifier (a wrong result type) gets the same message.
        return tfMessage.contains("Cannot deserialize computation")
                ? " (the StableHLO text did not parse or verify; MLIR printed the reason, as loc(\"-\":line:column): error: ...,"
                        + " to the process's stderr)"
                : "";
    }
}
