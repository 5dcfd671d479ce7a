package dev.kiln.tck;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.tck.internal.Numerics;
import dev.kiln.tck.internal.Offsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The oracle: a plain float64 interpreter of the IR. Every element of every dtype is a
 * {@code double} in row-major order (bool is 0 or 1; integers are exact up to 2^53). Floating
 * results are not rounded to their nominal dtype, except by a {@code Cast} that narrows, so the
 * interpreter is precise enough for finite differences; integer results truncate and wrap as
 * their type does. Composites run as their {@code decompose()}, which is their definition.
 */
public final class Reference {
    private Reference() {}

    /** Evaluates {@code graph} on one array per input; returns one array per output. */
    public static List<double[]> run(Graph graph, List<double[]> inputs) {
        if (inputs.size() != graph.inputs().size()) {
            throw new IllegalArgumentException("graph has " + graph.inputs().size() + " inputs, got " + inputs.size());
        }
        Map<Integer, double[]> env = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Value v = graph.inputs().get(i);
            checkSize(v.type(), inputs.get(i), "input " + i);
            env.put(v.id(), inputs.get(i));
        }
        for (Node n : graph.nodes()) {
            List<TensorType> types = new ArrayList<>();
            List<double[]> args = new ArrayList<>();
            for (Value v : n.inputs()) {
                double[] d = env.get(v.id());
                if (d == null) throw new IllegalArgumentException("node " + n + " uses undefined value " + v);
                types.add(v.type());
                args.add(d);
            }
            List<double[]> out = evalNode(n.op(), types, args);
            for (int i = 0; i < out.size(); i++) env.put(n.outputs().get(i).id(), out.get(i));
        }
        List<double[]> result = new ArrayList<>();
        for (Value v : graph.outputs()) {
            double[] d = env.get(v.id());
            if (d == null) throw new IllegalArgumentException("graph output " + v + " is never defined");
            result.add(d);
        }
        return result;
    }

    /** Applies one op to arrays of the given types; checks the types with the op's own inference first. */
    public static List<double[]> evalNode(Op op, List<TensorType> inTypes, List<double[]> inputs) {
        List<TensorType> outTypes = op.infer(inTypes);
        for (int i = 0; i < inputs.size(); i++) checkSize(inTypes.get(i), inputs.get(i), op.opName() + " input " + i);
        if (op instanceof Composite c) return runComposite(c, inTypes, inputs);
        return List.of(primitive((Primitive) op, inTypes, inputs, outTypes.getFirst()));
    }

    private static List<double[]> runComposite(Composite c, List<TensorType> inTypes, List<double[]> inputs) {
        Graph.Builder b = Graph.builder();
        List<Value> in = new ArrayList<>();
        for (TensorType t : inTypes) in.add(b.input(t));
        return run(b.build(c.decompose(b, in)), inputs);
    }

    private static double[] primitive(Primitive p, List<TensorType> t, List<double[]> x, TensorType out) {
        return switch (p) {
            case Primitive.Unary u -> unary(u.fn(), x.getFirst());
            case Primitive.Binary bin -> binary(bin.fn(), t.get(0), t.get(1), x.get(0), x.get(1), out);
            case Primitive.Where w -> where(t, x, out.shape());
            case Primitive.Cast c -> cast(x.getFirst(), t.getFirst().dtype(), c.to());
            case Primitive.Reduce r -> reduce(r, t.getFirst().shape(), x.getFirst(), out.shape());
            case Primitive.MatMul m -> Contraction.matmul(m, t.get(0).shape(), t.get(1).shape(), x.get(0), x.get(1), out);
            case Primitive.Reshape r -> x.getFirst().clone();
            case Primitive.Permute perm -> permute(perm, t.getFirst().shape(), x.getFirst(), out.shape());
            case Primitive.Broadcast br -> take(x.getFirst(), Offsets.broadcast(t.getFirst().shape(), br.shape()));
            case Primitive.Slice s -> slice(s, t.getFirst().shape(), x.getFirst(), out.shape());
            case Primitive.Concat c -> concat(c.axis(), t, x, out.shape());
            case Primitive.Gather g -> Contraction.gather(g.axis(), t.get(0).shape(), x.get(0), x.get(1), out.shape());
            case Primitive.ScatterAdd s -> Contraction.scatterAdd(s.axis(), s.shape(), x.get(0), x.get(1), t.get(1).shape());
            case Primitive.Conv2d c -> WindowReference.conv(c.window(), c.groups(), t.get(0).shape(), t.get(1).shape(), x.get(0), x.get(1));
            case Primitive.Conv2dBackwardData c -> WindowReference.convBackwardData(c.window(), c.groups(), c.input(), t.get(1).shape(), x.get(0), x.get(1));
            case Primitive.Conv2dBackwardWeights c -> WindowReference.convBackwardWeights(c.window(), c.groups(), t.get(0).shape(), c.weight(), x.get(0), x.get(1));
            case Primitive.MaxPool2dIndices m -> WindowReference.maxPoolIndices(m.window(), t.getFirst().shape(), x.getFirst());
            case Primitive.Fill f -> fill(f.value(), f.type());
            case Primitive.Iota i -> iota(i.axis(), i.type());
            case Primitive.RandomUniform r -> randomUniform((long) x.getFirst()[0], r.type());
        };
    }

    /** One element of a {@link Primitive.Unary}; public so kernels and tests can name the definition. */
    public static double unary(UnaryFn fn, double x) {
        return switch (fn) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case RELU -> x > 0 ? x : 0.0;
            case ABS -> Math.abs(x);
            case GELU -> UnaryFn.gelu(x);
            case ERF -> UnaryFn.erf(x);
        };
    }

    /**
     * One element of a {@link Primitive.Binary} on {@code dtype}. Integer division truncates
     * toward zero (the IR leaves it unstated; this matches Java, C and PyTorch's "trunc").
     */
    public static double binary(BinaryFn fn, DType dtype, double a, double b) {
        double r = switch (fn) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> dtype.isFloating() ? a / b : (b == 0 ? 0 : (double) ((long) a / (long) b));
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case POW -> Math.pow(a, b);
            case EQ -> a == b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
        };
        return fn.isComparison() ? r : Numerics.normalize(r, dtype);
    }

    private static double[] unary(UnaryFn fn, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = unary(fn, x[i]);
        return y;
    }

    private static double[] binary(BinaryFn fn, TensorType ta, TensorType tb, double[] a, double[] b, TensorType out) {
        int[] ia = Offsets.broadcast(ta.shape(), out.shape()), ib = Offsets.broadcast(tb.shape(), out.shape());
        double[] y = new double[ia.length];
        for (int i = 0; i < y.length; i++) y[i] = binary(fn, ta.dtype(), a[ia[i]], b[ib[i]]);
        return y;
    }

    private static double[] where(List<TensorType> t, List<double[]> x, Shape out) {
        int[] ic = Offsets.broadcast(t.get(0).shape(), out);
        int[] ia = Offsets.broadcast(t.get(1).shape(), out);
        int[] ib = Offsets.broadcast(t.get(2).shape(), out);
        double[] y = new double[ic.length];
        for (int i = 0; i < y.length; i++) y[i] = x.get(0)[ic[i]] != 0 ? x.get(1)[ia[i]] : x.get(2)[ib[i]];
        return y;
    }

    private static double[] cast(double[] x, DType from, DType to) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Numerics.convert(x[i], from, to);
        return y;
    }

    private static double[] reduce(Primitive.Reduce r, Shape in, double[] x, Shape out) {
        // Walk the input with the output's strides, zero on reduced axes, to find each element's bucket.
        int[] kept = in.dims();
        for (int a : r.axes()) kept[a] = 1;
        long[] outStrides = Shape.of(kept).strides();
        for (int a : r.axes()) outStrides[a] = 0;
        int[] bucket = Offsets.walk(in.dims(), outStrides, 0);
        double[] y = new double[Math.toIntExact(out.size())];
        if (r.fn() == Primitive.ReduceFn.MAX) java.util.Arrays.fill(y, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < x.length; i++) {
            int o = bucket[i];
            y[o] = r.fn() == Primitive.ReduceFn.SUM ? y[o] + x[i] : Math.max(y[o], x[i]);
        }
        return y;
    }

    private static double[] permute(Primitive.Permute p, Shape in, double[] x, Shape out) {
        long[] s = in.strides();
        long[] strides = new long[out.rank()];
        for (int i = 0; i < strides.length; i++) strides[i] = s[p.perm().get(i)];
        return take(x, Offsets.walk(out.dims(), strides, 0));
    }

    private static double[] slice(Primitive.Slice s, Shape in, double[] x, Shape out) {
        long[] strides = in.strides();
        return take(x, Offsets.walk(out.dims(), strides, s.start() * strides[s.axis()]));
    }

    private static double[] concat(int axis, List<TensorType> t, List<double[]> x, Shape out) {
        double[] y = new double[Math.toIntExact(out.size())];
        long[] strides = out.strides();
        long at = 0;
        for (int k = 0; k < x.size(); k++) {
            Shape s = t.get(k).shape();
            int[] dst = Offsets.walk(s.dims(), strides, at * strides[axis]);
            for (int i = 0; i < dst.length; i++) y[dst[i]] = x.get(k)[i];
            at += s.dim(axis);
        }
        return y;
    }

    private static double[] fill(double value, TensorType type) {
        double[] y = new double[Math.toIntExact(type.shape().size())];
        java.util.Arrays.fill(y, Numerics.convert(value, DType.F64, type.dtype()));
        return y;
    }

    private static double[] iota(int axis, TensorType type) {
        Shape s = type.shape();
        long stride = s.strides()[axis];
        double[] y = new double[Math.toIntExact(s.size())];
        for (int i = 0; i < y.length; i++) y[i] = Numerics.convert((i / stride) % s.dim(axis), DType.I64, type.dtype());
        return y;
    }

    /** The stream every plugin must reproduce; {@code seed} is the i64 seed input. */
    public static double[] randomUniform(long seed, TensorType type) {
        double[] y = new double[Math.toIntExact(type.shape().size())];
        for (int i = 0; i < y.length; i++) y[i] = Numerics.convert(Primitive.RandomUniform.sample(seed, i), DType.F32, type.dtype());
        return y;
    }

    private static double[] take(double[] x, int[] offsets) {
        double[] y = new double[offsets.length];
        for (int i = 0; i < y.length; i++) y[i] = x[offsets[i]];
        return y;
    }

    private static void checkSize(TensorType t, double[] data, String what) {
        if (data.length != t.shape().size()) {
            throw new IllegalArgumentException(what + " is " + t + " (" + t.shape().size() + " elements) but has " + data.length + " values");
        }
    }
}
