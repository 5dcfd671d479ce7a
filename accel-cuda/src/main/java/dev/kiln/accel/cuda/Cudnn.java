package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * The cuDNN handle one accelerator shares, bound to its stream, and the helpers its planned calls
 * share. {@link #open} gives null where cuDNN is absent (or {@code -Dkiln.cuda.cudnn=false}): then
 * convolutions, pooling and batch norm run on Kiln's own kernels.
 */
final class Cudnn implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.kiln.accel.cuda");

    final cudnnContext handle = new cudnnContext();

    private Cudnn(CudaStream stream) {
        check(cudnn.cudnnCreate(handle), "cudnnCreate");
        check(cudnn.cudnnSetStream(handle, stream.handle()), "cudnnSetStream");
    }

    static Cudnn open(CudaStream stream) {
        if ("false".equalsIgnoreCase(System.getProperty("kiln.cuda.cudnn"))) return null;
        try {
            Loader.load(cudnn.class);
            return new Cudnn(stream);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.INFO, "cuDNN did not load (" + CudaLibraries.rootMessage(t) + "); convolutions, pooling and batch norm use Kiln's own kernels");
            return null;
        }
    }

    /** cuDNN's name for a floating dtype, or -1. */
    static int dataType(DType t) {
        return switch (t) {
            case F32 -> cudnn.CUDNN_DATA_FLOAT;
            case F64 -> cudnn.CUDNN_DATA_DOUBLE;
            case BF16 -> cudnn.CUDNN_DATA_BFLOAT16;
            case F16 -> cudnn.CUDNN_DATA_HALF;
            default -> -1;
        };
    }

    /** Creates {@code d} as a packed NCHW descriptor of {@code dims} (rank 1 to 4; missing trailing dims are 1). */
    static void nchw(cudnnTensorStruct d, int data, int[] dims) {
        int[] n = {1, 1, 1, 1};
        System.arraycopy(dims, 0, n, 0, dims.length);
        check(cudnn.cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor");
        check(cudnn.cudnnSetTensor4dDescriptor(d, cudnn.CUDNN_TENSOR_NCHW, data, n[0], n[1], n[2], n[3]), "tensor descriptor");
    }

    /** A host scalar for cuDNN's alpha and beta: double for f64 data, float for every other type. */
    static Pointer scalar(DType t, double v) { return t == DType.F64 ? new DoublePointer(1).put(v) : new FloatPointer(1).put((float) v); }

    static void check(int rc, String what) {
        if (rc != cudnn.CUDNN_STATUS_SUCCESS) throw new CudaException(what + " failed: " + cudnn.cudnnGetErrorString(rc).getString() + " (" + rc + ")");
    }

    @Override public void close() { cudnn.cudnnDestroy(handle); }
}
