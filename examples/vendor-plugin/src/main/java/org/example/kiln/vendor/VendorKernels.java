package org.example.kiln.vendor;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * One kernel per primitive, in plain Java over float64 arrays: slow, and exact enough that the
 * conformance kit's float64 reference agrees to the last bit of f32. A real plugin replaces
 * these, one at a time, by calls into its own library, and the kit says which one it got wrong.
 */
final class VendorKernels {
    private VendorKernels() {}

    /** What a kernel computes from its inputs, read as doubles. */
    private interface Compute {
        double[] apply(double[][] in);
    }

    static Kernel of(Primitive p, Node node) {
        List<TensorType> in = node.inputs().stream().map(Value::type).toList();
        TensorType out = node.output().type();
        if (p instanceof Primitive.RandomUniform r) {
            // The seed is read as a long: an i64 above 2^53 would not survive a double.
            return (ins, outs) -> {
                long seed = ins[0].get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
                double[] y = new double[Math.toIntExact(r.type().shape().size())];
                for (int i = 0; i < y.length; i++) y[i] = (float) Primitive.RandomUniform.sample(seed, i);
                Elements.write(y, out, outs[0]);
            };
        }
        Compute c = compute(p, in, out);
        return (MemorySegment[] ins, MemorySegment[] outs) -> {
            double[][] x = new double[ins.length][];
            for (int i = 0; i < ins.length; i++) x[i] = Elements.read(ins[i], in.get(i));
            Elements.write(c.apply(x), out, outs[0]);
        };
    }

    private static Compute compute(Primitive p, List<TensorType> in, TensorType out) {
        int[] o = out.shape().dims();
        return switch (p) {
            case Primitive.Unary u -> x -> map(x[0], u.fn());
            case Primitive.Binary b -> x -> binary(b.fn(), out.dtype() == DType.BOOL ? in.get(0).dtype() : out.dtype(), x[0], dims(in, 0), x[1], dims(in, 1), o);
            case Primitive.Where w -> x -> where(x, in, o);
            case Primitive.Cast c -> x -> x[0]; // Elements.write converts
            case Primitive.Reshape r -> x -> x[0];
            case Primitive.Reduce r -> x -> reduce(r, x[0], dims(in, 0), o);
            case Primitive.MatMul m -> x -> matmul(m, x[0], dims(in, 0), x[1], dims(in, 1), o);
            case Primitive.Permute pm -> x -> permute(pm.perm(), x[0], dims(in, 0), o);
            case Primitive.Broadcast b -> x -> take(x[0], Indexing.broadcast(dims(in, 0), o));
            case Primitive.Slice s -> x -> slice(s, x[0], dims(in, 0), o);
            case Primitive.Concat c -> x -> concat(c.axis(), x, in, o);
            case Primitive.Gather g -> x -> gather(g.axis(), x[0], dims(in, 0), x[1], dims(in, 1), o);
            case Primitive.ScatterAdd s -> x -> scatterAdd(s.axis(), x[0], dims(in, 0), x[1], dims(in, 1), o);
            case Primitive.Fill f -> x -> fill(f.value(), o);
            case Primitive.Iota i -> x -> iota(i.axis(), o);
            case Primitive.RandomUniform r -> throw new IllegalStateException("handled in of()");
            case Primitive.Conv2d c -> throw declared(p);
            case Primitive.Conv2dBackwardData c -> throw declared(p);
            case Primitive.Conv2dBackwardWeights c -> throw declared(p);
            case Primitive.MaxPool2dIndices m -> throw declared(p);
        };
    }

    /** The runtime never hands over what the capabilities declare unsupported. */
    private static IllegalStateException declared(Primitive p) {
        return new IllegalStateException("vendor declared " + p.opName() + " unsupported and was handed it anyway");
    }

    private static int[] dims(List<TensorType> in, int i) { return in.get(i).shape().dims(); }

    private static double[] map(double[] x, UnaryFn fn) {
        double[] y = new double[x.length];
        for (int i = 0; i < y.length; i++) {
            double v = x[i];
            y[i] = switch (fn) {
                case NEG -> -v;
                case EXP -> Math.exp(v);
                case LOG -> Math.log(v);
                case SQRT -> Math.sqrt(v);
                case TANH -> Math.tanh(v);
                case SIGMOID -> 1 / (1 + Math.exp(-v));
                case RELU -> v > 0 ? v : 0.0;
                case ABS -> Math.abs(v);
                case ERF -> UnaryFn.erf(v);
                case GELU -> throw new IllegalStateException("declared unsupported");
            };
        }
        return y;
    }

    private static double[] binary(BinaryFn fn, DType operands, double[] a, int[] da, double[] b, int[] db, int[] o) {
        int[] ia = Indexing.broadcast(da, o), ib = Indexing.broadcast(db, o);
        double[] y = new double[ia.length];
        for (int i = 0; i < y.length; i++) {
            double p = a[ia[i]], q = b[ib[i]];
            y[i] = switch (fn) {
                case ADD -> p + q;
                case SUB -> p - q;
                case MUL -> p * q;
                // Integer division truncates toward zero; by zero it gives zero rather than a trap.
                case DIV -> operands.isFloating() ? p / q : q == 0 ? 0 : (double) ((long) p / (long) q);
                case MAX -> Math.max(p, q);
                case MIN -> Math.min(p, q);
                case POW -> Math.pow(p, q);
                case EQ -> p == q ? 1 : 0;
                case GT -> p > q ? 1 : 0;
                case LT -> p < q ? 1 : 0;
            };
        }
        return y;
    }

    private static double[] where(double[][] x, List<TensorType> in, int[] o) {
        int[] c = Indexing.broadcast(dims(in, 0), o), a = Indexing.broadcast(dims(in, 1), o), b = Indexing.broadcast(dims(in, 2), o);
        double[] y = new double[c.length];
        for (int i = 0; i < y.length; i++) y[i] = x[0][c[i]] != 0 ? x[1][a[i]] : x[2][b[i]];
        return y;
    }

    private static double[] reduce(Primitive.Reduce r, double[] x, int[] d, int[] o) {
        double[] y = new double[Indexing.size(o)];
        if (r.fn() == Primitive.ReduceFn.MAX) java.util.Arrays.fill(y, Double.NEGATIVE_INFINITY);
        int[] kept = new int[d.length];
        for (int i = 0; i < d.length; i++) kept[i] = r.axes().contains(i) ? 1 : d[i];
        for (int f = 0; f < x.length; f++) {
            int[] c = Indexing.coordinates(f, d);
            for (int a : r.axes()) c[a] = 0;
            int t = Indexing.flat(c, kept); // keepDims or not, the same row-major position
            y[t] = r.fn() == Primitive.ReduceFn.SUM ? y[t] + x[f] : Math.max(y[t], x[f]);
        }
        return y;
    }

    private static double[] matmul(Primitive.MatMul m, double[] a, int[] da, double[] b, int[] db, int[] o) {
        int r = da.length, batch = r == 3 ? da[0] : 1, rows = o[r - 2], cols = o[r - 1];
        int k = m.transA() ? da[r - 2] : da[r - 1];
        int aRows = da[r - 2], aCols = da[r - 1], bRows = db[r - 2], bCols = db[r - 1];
        double[] y = new double[batch * rows * cols];
        for (int n = 0; n < batch; n++) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = m.transA() ? a[n * aRows * aCols + p * aCols + i] : a[n * aRows * aCols + i * aCols + p];
                        double bv = m.transB() ? b[n * bRows * bCols + j * bCols + p] : b[n * bRows * bCols + p * bCols + j];
                        s += av * bv;
                    }
                    y[(n * rows + i) * cols + j] = s;
                }
            }
        }
        return y;
    }

    private static double[] permute(List<Integer> perm, double[] x, int[] d, int[] o) {
        double[] y = new double[x.length];
        int[] ci = new int[d.length];
        for (int f = 0; f < y.length; f++) {
            int[] c = Indexing.coordinates(f, o);
            for (int i = 0; i < c.length; i++) ci[perm.get(i)] = c[i];
            y[f] = x[Indexing.flat(ci, d)];
        }
        return y;
    }

    private static double[] take(double[] x, int[] source) {
        double[] y = new double[source.length];
        for (int i = 0; i < y.length; i++) y[i] = x[source[i]];
        return y;
    }

    private static double[] slice(Primitive.Slice s, double[] x, int[] d, int[] o) {
        double[] y = new double[Indexing.size(o)];
        for (int f = 0; f < y.length; f++) {
            int[] c = Indexing.coordinates(f, o);
            c[s.axis()] += s.start();
            y[f] = x[Indexing.flat(c, d)];
        }
        return y;
    }

    private static double[] concat(int axis, double[][] x, List<TensorType> in, int[] o) {
        double[] y = new double[Indexing.size(o)];
        for (int f = 0; f < y.length; f++) {
            int[] c = Indexing.coordinates(f, o);
            int part = 0;
            while (c[axis] >= in.get(part).shape().dim(axis)) c[axis] -= in.get(part++).shape().dim(axis);
            y[f] = x[part][Indexing.flat(c, dims(in, part))];
        }
        return y;
    }

    /** Output coordinates are x's before {@code axis}, the index tensor's, then x's after it. */
    private static double[] gather(int axis, double[] x, int[] dx, double[] idx, int[] di, int[] o) {
        double[] y = new double[Indexing.size(o)];
        for (int f = 0; f < y.length; f++) {
            y[f] = x[Indexing.flat(gathered(axis, Indexing.coordinates(f, o), idx, di, dx.length), dx)];
        }
        return y;
    }

    /** Zeros of the target shape with each update added where {@link #gather} would have read it. */
    private static double[] scatterAdd(int axis, double[] idx, int[] di, double[] updates, int[] du, int[] o) {
        double[] y = new double[Indexing.size(o)];
        for (int f = 0; f < updates.length; f++) {
            y[Indexing.flat(gathered(axis, Indexing.coordinates(f, du), idx, di, o.length), o)] += updates[f];
        }
        return y;
    }

    /** The coordinates in the indexed tensor (of rank {@code rank}) behind coordinates {@code c} of the gathered one. */
    private static int[] gathered(int axis, int[] c, double[] idx, int[] di, int rank) {
        int[] ci = new int[rank], ii = new int[di.length];
        System.arraycopy(c, 0, ci, 0, axis);
        System.arraycopy(c, axis, ii, 0, di.length);
        ci[axis] = (int) idx[Indexing.flat(ii, di)];
        System.arraycopy(c, axis + di.length, ci, axis + 1, rank - axis - 1);
        return ci;
    }

    private static double[] fill(double value, int[] o) {
        double[] y = new double[Indexing.size(o)];
        java.util.Arrays.fill(y, value);
        return y;
    }

    private static double[] iota(int axis, int[] o) {
        double[] y = new double[Indexing.size(o)];
        for (int f = 0; f < y.length; f++) y[f] = Indexing.coordinates(f, o)[axis];
        return y;
    }
}
