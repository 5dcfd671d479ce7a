package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cublas.cublasLtContext;
import org.bytedeco.cuda.cublas.cublasLtMatmulAlgo_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulDescOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulHeuristicResult_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulPreferenceOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatrixLayoutOpaque_t;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * One (batched) row-major matmul {@code D = op(A) op(B) [+ bias, activation]} planned once with
 * cuBLASLt: descriptors built and an algorithm chosen at compile time, so a run (or a CUDA graph
 * capture) is a single {@code cublasLtMatmul}. cuBLASLt is column-major; a row-major
 * {@code C = A B} is computed as the column-major {@code C^T = B^T A^T}, which is the same memory.
 * The bias epilogue therefore adds along D's rows, i.e. per output feature, as Linear needs.
 */
final class CublasLtMatmul implements Step, AutoCloseable {
    /** The handle and workspace one accelerator shares among all its matmuls. */
    static final class Context implements AutoCloseable {
        static final long WORKSPACE = 32L << 20;
        final cublasLtContext handle = new cublasLtContext();
        final long workspace;

        Context(CudaMemoryPool pool) {
            CudaCheck.blas(cublas.cublasLtCreate(handle), "cublasLtCreate");
            workspace = pool.allocate(WORKSPACE);
        }

        @Override public void close() { cublas.cublasLtDestroy(handle); }
    }

    /** The shapes of one row-major matmul: A is [m,k] (or [k,m] if transA), B [k,n] (or [n,k]), D [m,n] of type {@code out}. */
    record Shape(DType dtype, int batch, int m, int n, int k, boolean transA, boolean transB, DType out) {}

    private final Context ctx;
    private final List<Pointer> owned = new ArrayList<>();
    private final cublasLtMatmulDescOpaque_t desc;
    private final cublasLtMatrixLayoutOpaque_t la, lb, ld;
    private final cublasLtMatmulAlgo_t algo;
    private final Pointer alpha, beta;
    private final long a, b, d;

    private CublasLtMatmul(Context ctx, Shape s, PrecisionPolicy policy, long a, long b, long d, long bias, int epilogue) {
        this.ctx = ctx;
        this.a = a;
        this.b = b;
        this.d = d;
        int type = dataType(s.dtype());
        boolean f64 = s.dtype() == DType.F64;
        int compute = f64 ? cublas.CUBLAS_COMPUTE_64F
                : s.dtype() == DType.F32 && policy == PrecisionPolicy.TF32 ? cublas.CUBLAS_COMPUTE_32F_FAST_TF32 : cublas.CUBLAS_COMPUTE_32F;
        int scale = f64 ? cudart.CUDA_R_64F : cudart.CUDA_R_32F;
        alpha = keep(f64 ? new DoublePointer(1).put(1.0) : new FloatPointer(1).put(1f));
        beta = keep(f64 ? new DoublePointer(1).put(0.0) : new FloatPointer(1).put(0f));
        try (PointerPointer<?> out = new PointerPointer<>(1)) {
            CudaCheck.blas(cublas.cublasLtMatmulDescCreate(out, compute, scale), "cublasLtMatmulDescCreate");
            desc = new cublasLtMatmulDescOpaque_t(out.get(0));
            // Column-major view: D^T[n,m] = op(B)^T[n,k] op(A)^T[k,m]; B plays cuBLAS's A.
            set(desc, cublas.CUBLASLT_MATMUL_DESC_TRANSA, s.transB() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N);
            set(desc, cublas.CUBLASLT_MATMUL_DESC_TRANSB, s.transA() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N);
            if (epilogue != cublas.CUBLASLT_EPILOGUE_DEFAULT) {
                set(desc, cublas.CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue);
                LongPointer biasPtr = keep(new LongPointer(1).put(bias));
                CudaCheck.blas(cublas.cublasLtMatmulDescSetAttribute(desc, cublas.CUBLASLT_MATMUL_DESC_BIAS_POINTER, biasPtr, 8), "bias pointer");
                set(desc, cublas.CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, dataType(s.out()));
            }
            la = layout(out, type, s.transB() ? s.k() : s.n(), s.transB() ? s.n() : s.k(), s.batch(), (long) s.n() * s.k());
            lb = layout(out, type, s.transA() ? s.m() : s.k(), s.transA() ? s.k() : s.m(), s.batch(), (long) s.m() * s.k());
            ld = layout(out, dataType(s.out()), s.n(), s.m(), s.batch(), (long) s.m() * s.n());
            CudaCheck.blas(cublas.cublasLtMatmulPreferenceCreate(out), "cublasLtMatmulPreferenceCreate");
            cublasLtMatmulPreferenceOpaque_t pref = new cublasLtMatmulPreferenceOpaque_t(out.get(0));
            try (LongPointer ws = new LongPointer(1).put(Context.WORKSPACE)) {
                CudaCheck.blas(cublas.cublasLtMatmulPreferenceSetAttribute(pref, cublas.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws, 8), "workspace preference");
            }
            cublasLtMatmulHeuristicResult_t result = new cublasLtMatmulHeuristicResult_t();
            int[] found = new int[1];
            int rc = cublas.cublasLtMatmulAlgoGetHeuristic(ctx.handle, desc, la, lb, ld, ld, pref, 1, result, found);
            cublas.cublasLtMatmulPreferenceDestroy(pref);
            algo = rc == cublas.CUBLAS_STATUS_SUCCESS && found[0] > 0 ? keep(result).algo() : null;
            if (algo == null) {
                System.getLogger("dev.kiln.accel.cuda").log(System.Logger.Level.WARNING,
                        "cuBLASLt heuristic found no algorithm for " + s + " (epilogue " + epilogue + ", status " + rc + ", " + found[0] + " results)");
            }
        }
    }

    /** A planned matmul, or {@code null} when cuBLASLt has no algorithm for it (the caller then uses {@link MatmulKernel}). */
    static CublasLtMatmul plan(Context ctx, Shape s, PrecisionPolicy policy, long a, long b, long d, long bias, int epilogue) {
        if (dataType(s.dtype()) < 0 || dataType(s.out()) < 0) return null;
        CublasLtMatmul p = new CublasLtMatmul(ctx, s, policy, a, b, d, bias, epilogue);
        if (p.algo == null) {
            p.close();
            return null;
        }
        return p;
    }

    @Override public void enqueue(CudaStream stream) {
        // cuBLAS's A is our B and vice versa (see the class comment); C = D with beta 0.
        CudaCheck.blas(cublas.cublasLtMatmul(ctx.handle, desc, alpha, new DevicePointer(b), la, new DevicePointer(a), lb, beta,
                new DevicePointer(d), ld, new DevicePointer(d), ld, algo, new DevicePointer(ctx.workspace), Context.WORKSPACE, stream.handle()),
                "cublasLtMatmul");
    }

    private cublasLtMatrixLayoutOpaque_t layout(PointerPointer<?> out, int type, long rows, long cols, int batch, long stride) {
        CudaCheck.blas(cublas.cublasLtMatrixLayoutCreate(out, type, rows, cols, rows), "cublasLtMatrixLayoutCreate");
        cublasLtMatrixLayoutOpaque_t l = new cublasLtMatrixLayoutOpaque_t(out.get(0));
        if (batch > 1) {
            try (IntPointer n = new IntPointer(1).put(batch); LongPointer st = new LongPointer(1).put(stride)) {
                CudaCheck.blas(cublas.cublasLtMatrixLayoutSetAttribute(l, cublas.CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, n, 4), "batch count");
                CudaCheck.blas(cublas.cublasLtMatrixLayoutSetAttribute(l, cublas.CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, st, 8), "batch stride");
            }
        }
        return l;
    }

    private static void set(cublasLtMatmulDescOpaque_t desc, int attr, int value) {
        try (IntPointer v = new IntPointer(1).put(value)) {
            CudaCheck.blas(cublas.cublasLtMatmulDescSetAttribute(desc, attr, v, 4), "cublasLtMatmulDescSetAttribute(" + attr + ")");
        }
    }

    private <P extends Pointer> P keep(P p) {
        owned.add(p);
        return p;
    }

    /** cuBLAS's name for a dtype, or -1 where Kiln does not use cuBLASLt. */
    static int dataType(DType t) {
        return switch (t) {
            case F32 -> cudart.CUDA_R_32F;
            case F64 -> cudart.CUDA_R_64F;
            case BF16 -> cudart.CUDA_R_16BF;
            case F16 -> cudart.CUDA_R_16F;
            default -> -1;
        };
    }

    @Override public void close() {
        if (desc != null) cublas.cublasLtMatmulDescDestroy(desc);
        if (la != null) cublas.cublasLtMatrixLayoutDestroy(la);
        if (lb != null) cublas.cublasLtMatrixLayoutDestroy(lb);
        if (ld != null) cublas.cublasLtMatrixLayoutDestroy(ld);
        for (Pointer p : owned) p.close();
        owned.clear();
    }
}
