package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;

/**
 * Matrix products for the types oneDNN's matmul does not take (f64, integers), accumulated in
 * double: exact for f64 and for integer products below 2^53.
 */
final class JavaMatmul {
    private JavaMatmul() {}

    static Kernel create(Primitive.MatMul op, TensorType a, TensorType b, TensorType out) {
        Shape o = out.shape();
        int batch = o.rank() == 3 ? o.dim(0) : 1, m = o.dim(-2), n = o.dim(-1);
        int k = op.transA() ? a.shape().dim(-2) : a.shape().dim(-1);
        // Element (i, p) of op(a) sits at i*ai + p*ap; likewise (p, j) of op(b) at p*bp + j*bj.
        long ai = op.transA() ? 1 : k, ap = op.transA() ? m : 1;
        long bp = op.transB() ? 1 : n, bj = op.transB() ? k : 1;
        DType ta = a.dtype(), tb = b.dtype(), to = out.dtype();
        return (in, res) -> {
            double[] x = new double[m * k], y = new double[k * n], z = new double[m * n];
            for (int t = 0; t < batch; t++) {
                // Gather both operands row-major so the inner loop runs along contiguous rows of y and z.
                for (int i = 0; i < m; i++) Elements.load(in[0], ta, (long) t * m * k + i * ai, ap, x, k, i * k);
                for (int p = 0; p < k; p++) Elements.load(in[1], tb, (long) t * k * n + p * bp, bj, y, n, p * n);
                java.util.Arrays.fill(z, 0);
                for (int i = 0; i < m; i++) {
                    for (int p = 0; p < k; p++) {
                        double v = x[i * k + p];
                        int zr = i * n, yr = p * n;
                        for (int j = 0; j < n; j++) z[zr + j] += v * y[yr + j];
                    }
                }
                Elements.store(res[0], to, (long) t * m * n, z, m * n);
            }
        };
    }
}
