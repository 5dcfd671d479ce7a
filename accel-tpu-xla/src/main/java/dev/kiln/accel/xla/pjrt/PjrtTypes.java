package dev.kiln.accel.xla.pjrt;

import dev.kiln.core.DType;

/** Kiln's dtypes as {@code PJRT_Buffer_Type} values (the enum's order in the pinned header). */
final class PjrtTypes {
    private PjrtTypes() {}

    static final int PRED = 1, S8 = 2, S32 = 4, S64 = 5, F16 = 10, F32 = 11, F64 = 12, BF16 = 13;

    /** {@code PJRT_HostBufferSemantics_kImmutableUntilTransferCompletes}: the caller waits on {@code done_with_host_buffer}. */
    static final int IMMUTABLE_UNTIL_TRANSFER_COMPLETES = 1;

    static int of(DType t) {
        return switch (t) {
            case F32 -> F32;
            case F64 -> F64;
            case BF16 -> BF16;
            case F16 -> F16;
            case I32 -> S32;
            case I64 -> S64;
            case I8 -> S8;
            case BOOL -> PRED;
        };
    }
}
