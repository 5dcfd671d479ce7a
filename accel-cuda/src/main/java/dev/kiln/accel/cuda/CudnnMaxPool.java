package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Window2d;
import org.bytedeco.cuda.cudnn.cudnnPoolingStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.Pointer;

/**
 * Max pooling's forward through cuDNN (NaN propagating, as PyTorch). The backward keeps Kiln's
 * rule (recompute the argmax indices, scatter dy there), since cuDNN's pooling exposes no indices.
 */
final class CudnnMaxPool implements Step, AutoCloseable {
    private final Cudnn ctx;
    private final cudnnPoolingStruct pool = new cudnnPoolingStruct();
    private final cudnnTensorStruct xd = new cudnnTensorStruct(), yd = new cudnnTensorStruct();
    private final Pointer one, zero;
    private final long x, y;

    private CudnnMaxPool(Cudnn ctx, DType t, int[] xDims, int[] yDims, Window2d w, long x, long y) {
        this.ctx = ctx;
        this.x = x;
        this.y = y;
        Cudnn.nchw(xd, Cudnn.dataType(t), xDims);
        Cudnn.nchw(yd, Cudnn.dataType(t), yDims);
        Cudnn.check(cudnn.cudnnCreatePoolingDescriptor(pool), "cudnnCreatePoolingDescriptor");
        Cudnn.check(cudnn.cudnnSetPooling2dDescriptor(pool, cudnn.CUDNN_POOLING_MAX_DETERMINISTIC, cudnn.CUDNN_PROPAGATE_NAN,
                w.kernelH(), w.kernelW(), w.padH(), w.padW(), w.strideH(), w.strideW()), "pooling descriptor");
        one = Cudnn.scalar(t, 1);
        zero = Cudnn.scalar(t, 0);
    }

    /** A planned pooling, or null where it does not apply (see {@link #applies}). */
    static CudnnMaxPool plan(Cudnn ctx, DType t, int[] xDims, int[] yDims, Window2d w, long x, long y) {
        return applies(ctx, t, xDims, w) ? new CudnnMaxPool(ctx, t, xDims, yDims, w, x, y) : null;
    }

    /** cuDNN pools without dilation; padded windows stay on Kiln's kernel, whose padding never wins a window. */
    static boolean applies(Cudnn ctx, DType t, int[] xDims, Window2d w) {
        return ctx != null && Cudnn.dataType(t) >= 0 && xDims.length == 4 && w.dilationH() == 1 && w.dilationW() == 1 && w.padH() == 0 && w.padW() == 0;
    }

    @Override public void enqueue(CudaStream stream) {
        Cudnn.check(cudnn.cudnnPoolingForward(ctx.handle, pool, one, xd, new DevicePointer(x), zero, yd, new DevicePointer(y)), "cudnnPoolingForward");
    }

    @Override public void close() {
        cudnn.cudnnDestroyPoolingDescriptor(pool);
        cudnn.cudnnDestroyTensorDescriptor(xd);
        cudnn.cudnnDestroyTensorDescriptor(yd);
        one.close();
        zero.close();
    }
}
