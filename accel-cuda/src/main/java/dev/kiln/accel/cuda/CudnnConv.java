package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.ir.Window2d;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * One cuDNN convolution (forward, backward data or backward filter) on NCHW tensors, planned at
 * compile time: descriptors built and an algorithm chosen by cuDNN's heuristics, so a run (or a
 * CUDA graph capture) is a single call. f32 under the fp32 policy asks for FMA math, so cuDNN does
 * not silently use TF32 as it does by default on Ampere and newer.
 */
final class CudnnConv implements Step, AutoCloseable {
    enum Kind { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    private static final System.Logger LOG = System.getLogger("dev.kiln.accel.cuda");
    private static final long MAX_WORKSPACE = 256L << 20;

    private final Cudnn ctx;
    private final Kind kind;
    private final cudnnTensorStruct xDesc = new cudnnTensorStruct(), yDesc = new cudnnTensorStruct();
    private final cudnnFilterStruct wDesc = new cudnnFilterStruct();
    private final cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
    private final List<Pointer> owned = new ArrayList<>();
    private final Pointer alpha, beta;
    private final long x, w, y;
    private int algo = -1;
    private long workspace, workspaceBytes;

    private CudnnConv(Cudnn ctx, Kind kind, DType t, long x, long w, long y) {
        this.ctx = ctx;
        this.kind = kind;
        this.x = x;
        this.w = w;
        this.y = y;
        alpha = keep(Cudnn.scalar(t, 1));
        beta = keep(Cudnn.scalar(t, 0));
    }

    /**
     * A planned convolution over x [N,C,H,W], w [O,C/groups,KH,KW], y [N,O,OH,OW] (addresses of the
     * three, whichever is the output for {@code kind}), or null where cuDNN has no algorithm for it.
     */
    static CudnnConv plan(Cudnn ctx, CudaKernels k, Kind kind, DType t, PrecisionPolicy policy, int[] xd, int[] wd, int[] yd,
                          Window2d win, int groups, long x, long w, long y) {
        int data = Cudnn.dataType(t);
        if (ctx == null || data < 0) return null;
        int math = t == DType.F64 ? cudnn.CUDNN_DEFAULT_MATH
                : t == DType.F32 && policy != PrecisionPolicy.TF32 ? cudnn.CUDNN_FMA_MATH : cudnn.CUDNN_TENSOR_OP_MATH;
        CudnnConv c = new CudnnConv(ctx, kind, t, x, w, y);
        try {
            c.describe(data, t == DType.F64 ? cudnn.CUDNN_DATA_DOUBLE : cudnn.CUDNN_DATA_FLOAT, math, xd, wd, yd, win, groups);
            if (!c.chooseAlgorithm(math)) {
                c.close();
                return null;
            }
            if (c.workspaceBytes > 0) c.workspace = k.allocate(c.workspaceBytes);
            return c;
        } catch (CudaException e) {
            LOG.log(System.Logger.Level.DEBUG, "cuDNN cannot plan " + kind + " " + t + ": " + e.getMessage());
            c.close();
            return null;
        }
    }

    private void describe(int data, int compute, int math, int[] xd, int[] wd, int[] yd, Window2d win, int groups) {
        Cudnn.check(cudnn.cudnnCreateFilterDescriptor(wDesc), "cudnnCreateFilterDescriptor");
        Cudnn.check(cudnn.cudnnCreateConvolutionDescriptor(conv), "cudnnCreateConvolutionDescriptor");
        Cudnn.nchw(xDesc, data, xd);
        Cudnn.nchw(yDesc, data, yd);
        Cudnn.check(cudnn.cudnnSetFilter4dDescriptor(wDesc, data, cudnn.CUDNN_TENSOR_NCHW, wd[0], wd[1], wd[2], wd[3]), "filter descriptor");
        Cudnn.check(cudnn.cudnnSetConvolution2dDescriptor(conv, win.padH(), win.padW(), win.strideH(), win.strideW(), win.dilationH(), win.dilationW(),
                cudnn.CUDNN_CROSS_CORRELATION, compute), "convolution descriptor");
        Cudnn.check(cudnn.cudnnSetConvolutionGroupCount(conv, groups), "group count");
        Cudnn.check(cudnn.cudnnSetConvolutionMathType(conv, math), "math type");
    }

    /** The heuristics' first algorithm that succeeds, keeps the math asked for (no TF32 for fp32) and fits the workspace cap. */
    private boolean chooseAlgorithm(int math) {
        int[] found = new int[1];
        int candidates = 8;
        for (int i = 0; ; i++) {
            int status, a, m;
            long bytes;
            switch (kind) {
                case FORWARD -> {
                    cudnnConvolutionFwdAlgoPerf_t p = perfFwd(candidates, found);
                    if (i >= found[0]) return false;
                    cudnnConvolutionFwdAlgoPerf_t r = p.getPointer(i);
                    status = r.status(); a = r.algo(); m = r.mathType(); bytes = r.memory();
                }
                case BACKWARD_DATA -> {
                    cudnnConvolutionBwdDataAlgoPerf_t p = perfData(candidates, found);
                    if (i >= found[0]) return false;
                    cudnnConvolutionBwdDataAlgoPerf_t r = p.getPointer(i);
                    status = r.status(); a = r.algo(); m = r.mathType(); bytes = r.memory();
                }
                default -> {
                    cudnnConvolutionBwdFilterAlgoPerf_t p = perfFilter(candidates, found);
                    if (i >= found[0]) return false;
                    cudnnConvolutionBwdFilterAlgoPerf_t r = p.getPointer(i);
                    status = r.status(); a = r.algo(); m = r.mathType(); bytes = r.memory();
                }
            }
            boolean mathOk = math != cudnn.CUDNN_FMA_MATH || m != cudnn.CUDNN_TENSOR_OP_MATH;
            if (status == cudnn.CUDNN_STATUS_SUCCESS && mathOk && bytes <= MAX_WORKSPACE) {
                algo = a;
                Cudnn.check(cudnn.cudnnSetConvolutionMathType(conv, m), "math type");
                workspaceBytes = workspaceSize();
                return workspaceBytes <= MAX_WORKSPACE;
            }
        }
    }

    private cudnnConvolutionFwdAlgoPerf_t fwd;
    private cudnnConvolutionBwdDataAlgoPerf_t data;
    private cudnnConvolutionBwdFilterAlgoPerf_t filter;

    private cudnnConvolutionFwdAlgoPerf_t perfFwd(int n, int[] found) {
        if (fwd == null) {
            fwd = keep(new cudnnConvolutionFwdAlgoPerf_t(n));
            Cudnn.check(cudnn.cudnnGetConvolutionForwardAlgorithm_v7(ctx.handle, xDesc, wDesc, conv, yDesc, n, found, fwd), "forward algorithm");
        }
        return fwd;
    }

    private cudnnConvolutionBwdDataAlgoPerf_t perfData(int n, int[] found) {
        if (data == null) {
            data = keep(new cudnnConvolutionBwdDataAlgoPerf_t(n));
            Cudnn.check(cudnn.cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.handle, wDesc, yDesc, conv, xDesc, n, found, data), "backward-data algorithm");
        }
        return data;
    }

    private cudnnConvolutionBwdFilterAlgoPerf_t perfFilter(int n, int[] found) {
        if (filter == null) {
            filter = keep(new cudnnConvolutionBwdFilterAlgoPerf_t(n));
            Cudnn.check(cudnn.cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx.handle, xDesc, yDesc, conv, wDesc, n, found, filter), "backward-filter algorithm");
        }
        return filter;
    }

    private long workspaceSize() {
        try (SizeTPointer s = new SizeTPointer(1)) {
            int rc = switch (kind) {
                case FORWARD -> cudnn.cudnnGetConvolutionForwardWorkspaceSize(ctx.handle, xDesc, wDesc, conv, yDesc, algo, s);
                case BACKWARD_DATA -> cudnn.cudnnGetConvolutionBackwardDataWorkspaceSize(ctx.handle, wDesc, yDesc, conv, xDesc, algo, s);
                case BACKWARD_FILTER -> cudnn.cudnnGetConvolutionBackwardFilterWorkspaceSize(ctx.handle, xDesc, yDesc, conv, wDesc, algo, s);
            };
            Cudnn.check(rc, "workspace size");
            return s.get();
        }
    }

    @Override public void enqueue(CudaStream stream) {
        DevicePointer px = new DevicePointer(x), pw = new DevicePointer(w), py = new DevicePointer(y), ws = new DevicePointer(workspace);
        int rc = switch (kind) {
            case FORWARD -> cudnn.cudnnConvolutionForward(ctx.handle, alpha, xDesc, px, wDesc, pw, conv, algo, ws, workspaceBytes, beta, yDesc, py);
            case BACKWARD_DATA -> cudnn.cudnnConvolutionBackwardData(ctx.handle, alpha, wDesc, pw, yDesc, py, conv, algo, ws, workspaceBytes, beta, xDesc, px);
            case BACKWARD_FILTER -> cudnn.cudnnConvolutionBackwardFilter(ctx.handle, alpha, xDesc, px, yDesc, py, conv, algo, ws, workspaceBytes, beta, wDesc, pw);
        };
        Cudnn.check(rc, "cudnnConvolution " + kind);
    }

    private <P extends Pointer> P keep(P p) {
        owned.add(p);
        return p;
    }

    @Override public void close() {
        if (!conv.isNull()) cudnn.cudnnDestroyConvolutionDescriptor(conv);
        if (!wDesc.isNull()) cudnn.cudnnDestroyFilterDescriptor(wDesc);
        if (!xDesc.isNull()) cudnn.cudnnDestroyTensorDescriptor(xDesc);
        if (!yDesc.isNull()) cudnn.cudnnDestroyTensorDescriptor(yDesc);
        for (Pointer p : owned) p.close();
        owned.clear();
    }
}
