package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.Elements.BLOCK;
import static dev.kiln.accel.onednn.Elements.load;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import dev.kiln.spi.ir.TensorType;

/**
 * Sum and max in Java for the types oneDNN's reduction does not take. The input is walked in
 * order with the output's strides zeroed on reduced axes, accumulating in double (floating)
 * or long (integers).
 */
final class JavaReduce {
    private JavaReduce() {}

    static Kernel create(Primitive.Reduce op, TensorType in) {
        Shape s = in.shape();
        long[] outStrides = new long[s.rank()];
        long acc = 1;
        for (int i = s.rank() - 1; i >= 0; i--) {
            if (op.axes().contains(i)) continue;
            outStrides[i] = acc;
            acc *= s.dim(i);
        }
        Strided sp = Strided.of(s, Strided.dense(s), outStrides);
        int outSize = (int) acc;
        long n = sp.inner, so = sp.innerStride(1);
        DType t = in.dtype();
        boolean sum = op.fn() == ReduceFn.SUM, floating = t.isFloating();
        return (src, dst) -> {
            int blk = (int) Math.min(n, BLOCK);
            Strided.Cursor c = sp.cursor();
            if (floating) {
                double[] a = new double[outSize], x = new double[blk];
                java.util.Arrays.fill(a, sum ? 0 : Double.NEGATIVE_INFINITY);
                for (long row = 0; row < sp.rows; row++, c.next()) {
                    for (long j = 0; j < n; j += BLOCK) {
                        int m = (int) Math.min(BLOCK, n - j);
                        load(src[0], t, c.at(0) + j, 1, x, m);
                        int o = (int) (c.at(1) + j * so);
                        if (so == 0 && sum) { double r = a[o]; for (int i = 0; i < m; i++) r += x[i]; a[o] = r; }
                        else if (so == 0) { double r = a[o]; for (int i = 0; i < m; i++) r = Math.max(r, x[i]); a[o] = r; }
                        else if (sum) { for (int i = 0; i < m; i++) a[o + i] += x[i]; }
                        else { for (int i = 0; i < m; i++) a[o + i] = Math.max(a[o + i], x[i]); }
                    }
                }
                Elements.store(dst[0], t, 0, a, outSize);
            } else {
                long[] a = new long[outSize], x = new long[blk];
                java.util.Arrays.fill(a, sum ? 0 : Long.MIN_VALUE);
                for (long row = 0; row < sp.rows; row++, c.next()) {
                    for (long j = 0; j < n; j += BLOCK) {
                        int m = (int) Math.min(BLOCK, n - j);
                        load(src[0], t, c.at(0) + j, 1, x, m);
                        int o = (int) (c.at(1) + j * so);
                        if (so == 0) { long r = a[o]; for (int i = 0; i < m; i++) r = sum ? r + x[i] : Math.max(r, x[i]); a[o] = r; }
                        else { for (int i = 0; i < m; i++) a[o + i] = sum ? a[o + i] + x[i] : Math.max(a[o + i], x[i]); }
                    }
                }
                Elements.store(dst[0], t, 0, a, outSize);
            }
        };
    }
}
