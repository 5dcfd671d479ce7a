package dev.kiln.accel.xla.tf;

import dev.kiln.core.DType;

/** Kiln's element types as TensorFlow's {@code TF_DataType} values (tensorflow/c/tf_datatype.h). */
final class TfTypes {
    static final int TF_FLOAT = 1;
    static final int TF_DOUBLE = 2;
    static final int TF_INT32 = 3;
    static final int TF_INT8 = 6;
    static final int TF_INT64 = 9;
    static final int TF_BOOL = 10;
    static final int TF_BFLOAT16 = 14;
    static final int TF_HALF = 19;

    private TfTypes() {}

    static int of(DType dtype) {
        return switch (dtype) {
            case F32 -> TF_FLOAT;
            case F64 -> TF_DOUBLE;
            case BF16 -> TF_BFLOAT16;
            case F16 -> TF_HALF;
            case I32 -> TF_INT32;
            case I64 -> TF_INT64;
            case I8 -> TF_INT8;
            // TF's bool is one byte holding 0 or 1, as Kiln's is.
            case BOOL -> TF_BOOL;
        };
    }
}
