package dev.kiln.tck;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;

/** The reference's matmul and indexing: ops whose loops do not fit the offset walker. */
final class Contraction {
    private Contraction() {}

    static double[] matmul(Primitive.MatMul m, Shape sa, Shape sb, double[] a, double[] b, TensorType out) {
        int r = sa.rank();
        int batch = r == 3 ? sa.dim(0) : 1;
        int rows = out.shape().dim(-2), cols = out.shape().dim(-1);
        int k = m.transA() ? sa.dim(-2) : sa.dim(-1);
        int aRows = sa.dim(-2), aCols = sa.dim(-1), bRows = sb.dim(-2), bCols = sb.dim(-1);
        double[] y = new double[batch * rows * cols];
        for (int n = 0; n < batch; n++) {
            int ao = n * aRows * aCols, bo = n * bRows * bCols, yo = n * rows * cols;
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        double av = m.transA() ? a[ao + p * aCols + i] : a[ao + i * aCols + p];
                        double bv = m.transB() ? b[bo + j * bCols + p] : b[bo + p * bCols + j];
                        acc += av * bv;
                    }
                    y[yo + i * cols + j] = acc;
                }
            }
        }
        return y;
    }

    /** {@code out[o, j, p] = x[o, idx[j], p]} with {@code o} the axes before {@code axis}, {@code p} those after. */
    static double[] gather(int axis, Shape xs, double[] x, double[] idx, Shape out) {
        int n = xs.dim(axis), inner = inner(xs, axis), outer = outer(xs, axis), m = idx.length;
        double[] y = new double[Math.toIntExact(out.size())];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                int row = index(idx[j], n, "gather");
                System.arraycopy(x, (o * n + row) * inner, y, (o * m + j) * inner, inner);
            }
        }
        return y;
    }

    /** The adjoint of {@link #gather}: zeros of {@code shape}, {@code updates} added at {@code idx}. */
    static double[] scatterAdd(int axis, Shape shape, double[] idx, double[] updates, Shape updatesShape) {
        int n = shape.dim(axis), inner = inner(shape, axis), outer = outer(shape, axis), m = idx.length;
        double[] y = new double[Math.toIntExact(shape.size())];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                int row = index(idx[j], n, "scatteradd");
                for (int p = 0; p < inner; p++) y[(o * n + row) * inner + p] += updates[(o * m + j) * inner + p];
            }
        }
        return y;
    }

    private static int index(double v, int n, String op) {
        if (!(v >= 0 && v < n)) throw new IndexOutOfBoundsException(op + ": index " + (long) v + " out of range [0, " + n + ")");
        return (int) v;
    }

    private static int inner(Shape s, int axis) {
        int p = 1;
        for (int i = axis + 1; i < s.rank(); i++) p *= s.dim(i);
        return p;
    }

    private static int outer(Shape s, int axis) {
        int p = 1;
        for (int i = 0; i < axis; i++) p *= s.dim(i);
        return p;
    }
}
