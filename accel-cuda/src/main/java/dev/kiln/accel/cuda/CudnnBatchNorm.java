package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.Pointer;

/**
 * Spatial batch normalisation through cuDNN on x[n, c, ...] (rank 2 to 4): training forward
 * (which also steps the running statistics, in place in the output copies the planner made of
 * them), evaluation forward, and the training backward ({@code Composite.BatchNormGrad}). cuDNN's
 * running variance is the unbiased one, as PyTorch's and the composite's.
 */
final class CudnnBatchNorm implements Step, AutoCloseable {
    enum Kind { TRAINING, EVALUATION, BACKWARD }

    private final Cudnn ctx;
    private final Kind kind;
    private final cudnnTensorStruct x = new cudnnTensorStruct(), stat = new cudnnTensorStruct();
    private final Pointer one, zero;
    private final double momentum, eps;
    private final long[] a;

    /**
     * Addresses by kind: training {x, gamma, beta, y, runMean, runVar}; evaluation {x, gamma, beta,
     * y, mean, var}; backward {x, gamma, dy, dx, dgamma, dbeta}.
     */
    private CudnnBatchNorm(Cudnn ctx, Kind kind, DType t, int[] dims, double momentum, double eps, long... a) {
        this.ctx = ctx;
        this.kind = kind;
        this.momentum = momentum;
        this.eps = eps;
        this.a = a;
        int data = Cudnn.dataType(t);
        Cudnn.nchw(x, data, dims);
        Cudnn.check(cudnn.cudnnCreateTensorDescriptor(stat), "cudnnCreateTensorDescriptor");
        Cudnn.check(cudnn.cudnnDeriveBNTensorDescriptor(stat, x, cudnn.CUDNN_BATCHNORM_SPATIAL), "cudnnDeriveBNTensorDescriptor");
        one = Cudnn.scalar(t, 1);
        zero = Cudnn.scalar(t, 0);
    }

    /** A planned call, or null for what this does not cover (ranks above 4, half types: their statistics would not be f32). */
    static CudnnBatchNorm plan(Cudnn ctx, Kind kind, DType t, int[] dims, double momentum, double eps, long... addresses) {
        return applies(ctx, t, dims, eps) ? new CudnnBatchNorm(ctx, kind, t, dims, momentum, eps, addresses.clone()) : null;
    }

    static boolean applies(Cudnn ctx, DType t, int[] dims, double eps) {
        return ctx != null && (t == DType.F32 || t == DType.F64) && dims.length >= 2 && dims.length <= 4 && eps >= cudnn.CUDNN_BN_MIN_EPSILON;
    }

    @Override public void enqueue(CudaStream stream) {
        int mode = cudnn.CUDNN_BATCHNORM_SPATIAL;
        int rc = switch (kind) {
            case TRAINING -> cudnn.cudnnBatchNormalizationForwardTraining(ctx.handle, mode, one, zero, x, p(0), x, p(3), stat, p(1), p(2),
                    momentum, p(4), p(5), eps, null, null);
            case EVALUATION -> cudnn.cudnnBatchNormalizationForwardInference(ctx.handle, mode, one, zero, x, p(0), x, p(3), stat, p(1), p(2),
                    p(4), p(5), eps);
            case BACKWARD -> cudnn.cudnnBatchNormalizationBackward(ctx.handle, mode, one, zero, one, zero, x, p(0), x, p(2), x, p(3), stat, p(1),
                    p(4), p(5), eps, null, null);
        };
        Cudnn.check(rc, "cudnnBatchNormalization " + kind);
    }

    private DevicePointer p(int i) { return new DevicePointer(a[i]); }

    @Override public void close() {
        cudnn.cudnnDestroyTensorDescriptor(x);
        cudnn.cudnnDestroyTensorDescriptor(stat);
        one.close();
        zero.close();
    }
}
