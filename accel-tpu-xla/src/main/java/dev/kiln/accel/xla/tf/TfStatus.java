package dev.kiln.accel.xla.tf;

import java.lang.foreign.MemorySegment;

/** A {@code TF_Status} to hand to TF calls, turning a non-OK result into a {@link TfException}. */
final class TfStatus implements AutoCloseable {
    private final TfApi api;
    private final MemorySegment status;

    TfStatus(TfApi api) {
        this.api = api;
        this.status = api.newStatus();
    }

    /** The pointer to pass, reset to OK so that an earlier failure is never reported twice. */
    MemorySegment reset() {
        api.resetStatus(status);
        return status;
    }

    /** @throws TfException with TF's code and message when the last call through {@link #reset()} failed */
    void check(String during) {
        int code = api.getCode(status);
        if (code != 0) throw new TfException(during, code, api.message(status));
    }

    @Override public void close() { api.deleteStatus(status); }
}
