package dev.kiln.runtime.autodiff;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One vector-Jacobian rule per op, written in IR ops. The switch is exhaustive over the sealed
 * op hierarchy, so a new op without a rule does not compile. {@code null} marks an input with
 * no gradient (indices, conditions).
 */
final class VjpRules {
    private VjpRules() {}

    /** {@code zeros}: ids of cotangents that are known zero (outputs nothing downstream used), whose terms a rule may skip. */
    static List<Value> vjp(Graph.Builder b, Node n, List<Value> gs, java.util.Set<Integer> zeros) {
        List<Value> x = n.inputs();
        Value y = n.output(), g = gs.getFirst();
        Op op = n.op();
        return switch (op) {
            case Primitive p -> primitive(b, p, x, y, g);
            case Composite c -> composite(b, c, x, y, gs, zeros);
            case Fused f -> throw new IllegalArgumentException(f.opName() + " is a plugin's fused op; autodiff runs before plugin fusion");
        };
    }

    private static List<Value> primitive(Graph.Builder b, Primitive op, List<Value> x, Value y, Value g) {
        return switch (op) {
            case Primitive.Unary u -> List.of(unary(b, u.fn(), x.getFirst(), y, g));
            case Primitive.Binary bin -> binary(b, bin.fn(), x.get(0), x.get(1), y, g);
            case Primitive.Where w -> {
                Value zero = b.scalar(0, g);
                yield Arrays.asList(null,
                        b.sumTo(b.where(x.get(0), g, zero), x.get(1).type().shape()),
                        b.sumTo(b.where(x.get(0), zero, g), x.get(2).type().shape()));
            }
            case Primitive.Cast c -> Arrays.asList(x.getFirst().type().dtype().isFloating() ? b.cast(g, x.getFirst().type().dtype()) : null);
            case Primitive.Reduce r -> List.of(reduce(b, r, x.getFirst(), y, g));
            case Primitive.MatMul m -> List.of(
                    m.transA() ? b.matmul(x.get(1), g, m.transB(), true) : b.matmul(g, x.get(1), false, !m.transB()),
                    m.transB() ? b.matmul(g, x.get(0), true, m.transA()) : b.matmul(x.get(0), g, !m.transA(), false));
            case Primitive.Reshape r -> List.of(b.reshape(g, x.getFirst().type().shape()));
            case Primitive.Permute p -> {
                Integer[] inverse = new Integer[p.perm().size()];
                for (int i = 0; i < inverse.length; i++) inverse[p.perm().get(i)] = i;
                yield List.of(b.apply1(new Primitive.Permute(List.of(inverse)), g));
            }
            case Primitive.Broadcast br -> List.of(b.sumTo(g, x.getFirst().type().shape()));
            case Primitive.Slice s -> List.of(unslice(b, s, x.getFirst().type(), g));
            case Primitive.Concat c -> {
                List<Value> parts = new ArrayList<>();
                int start = 0;
                for (Value xi : x) {
                    int len = xi.type().shape().dim(c.axis());
                    parts.add(b.apply1(new Primitive.Slice(c.axis(), start, start + len), g));
                    start += len;
                }
                yield parts;
            }
            case Primitive.Gather ga -> Arrays.asList(
                    b.apply1(new Primitive.ScatterAdd(ga.axis(), x.get(0).type().shape()), x.get(1), g), null);
            case Primitive.ScatterAdd s -> Arrays.asList(null, b.apply1(new Primitive.Gather(s.axis()), g, x.get(0)));
            case Primitive.Conv2d c -> List.of(
                    b.apply1(new Primitive.Conv2dBackwardData(c.window(), c.groups(), x.get(0).type().shape()), g, x.get(1)),
                    b.apply1(new Primitive.Conv2dBackwardWeights(c.window(), c.groups(), x.get(1).type().shape()), x.get(0), g));
            // Both adjoints are bilinear, so their VJPs are the other two convolution ops.
            case Primitive.Conv2dBackwardData c -> List.of(
                    b.apply1(new Primitive.Conv2d(c.window(), c.groups()), g, x.get(1)),
                    b.apply1(new Primitive.Conv2dBackwardWeights(c.window(), c.groups(), x.get(1).type().shape()), g, x.get(0)));
            case Primitive.Conv2dBackwardWeights c -> List.of(
                    b.apply1(new Primitive.Conv2dBackwardData(c.window(), c.groups(), x.get(0).type().shape()), x.get(1), g),
                    b.apply1(new Primitive.Conv2d(c.window(), c.groups()), x.get(0), g));
            case Primitive.MaxPool2dIndices m -> Arrays.asList((Value) null);
            case Primitive.Fill f -> List.of();
            case Primitive.Iota i -> List.of();
            case Primitive.RandomUniform r -> Arrays.asList((Value) null);
        };
    }

    private static Value unary(Graph.Builder b, UnaryFn fn, Value x, Value y, Value g) {
        return switch (fn) {
            case NEG -> b.neg(g);
            case EXP -> b.mul(g, y);
            case LOG -> b.div(g, x);
            case SQRT -> b.div(b.mul(g, b.scalar(0.5, g)), y);
            case TANH -> b.mul(g, b.sub(b.scalar(1, y), b.mul(y, y)));
            case SIGMOID -> b.mul(g, b.mul(y, b.sub(b.scalar(1, y), y)));
            case RELU -> b.mul(g, mask(b, BinaryFn.GT, x, b.scalar(0, x)));
            case ABS -> b.mul(g, b.sub(mask(b, BinaryFn.GT, x, b.scalar(0, x)), mask(b, BinaryFn.LT, x, b.scalar(0, x))));
            case GELU -> b.mul(g, geluDerivative(b, x));
            case ERF -> b.mul(g, b.mul(b.scalar(2 / Math.sqrt(Math.PI), x), b.unary(UnaryFn.EXP, b.neg(b.mul(x, x)))));
        };
    }

    private static List<Value> binary(Graph.Builder b, BinaryFn fn, Value a, Value c, Value y, Value g) {
        if (fn.isComparison()) return Arrays.asList(null, null);
        Value ga, gc;
        switch (fn) {
            case ADD -> { ga = g; gc = g; }
            case SUB -> { ga = g; gc = b.neg(g); }
            case MUL -> { ga = b.mul(g, c); gc = b.mul(g, a); }
            case DIV -> { ga = b.div(g, c); gc = b.neg(b.div(b.mul(g, y), c)); }
            case MAX, MIN -> {
                Value m = mask(b, fn == BinaryFn.MAX ? BinaryFn.GT : BinaryFn.LT, a, c);
                ga = b.mul(g, m);
                gc = b.mul(g, b.sub(b.scalar(1, m), m));
            }
            case POW -> {
                ga = b.mul(g, b.mul(c, b.binary(BinaryFn.POW, a, b.sub(c, b.scalar(1, c)))));
                gc = b.mul(g, b.mul(y, b.unary(UnaryFn.LOG, a)));
            }
            default -> throw new AssertionError(fn);
        }
        return List.of(b.sumTo(ga, a.type().shape()), b.sumTo(gc, c.type().shape()));
    }

    private static Value reduce(Graph.Builder b, Primitive.Reduce r, Value x, Value y, Value g) {
        Shape kept = new Primitive.Reduce(r.fn(), r.axes(), true).reducedShape(x.type().shape());
        Value gk = b.broadcast(b.reshape(g, kept), x.type().shape());
        return switch (r.fn()) {
            case SUM -> gk;
            case MAX -> {
                Value hit = mask(b, BinaryFn.EQ, x, b.reshape(y, kept));
                Value count = b.sum(hit, r.axes(), true);
                yield b.div(b.mul(gk, hit), count);
            }
        };
    }

    private static Value unslice(Graph.Builder b, Primitive.Slice s, TensorType in, Value g) {
        List<Value> parts = new ArrayList<>();
        int[] d = in.shape().dims();
        if (s.start() > 0) {
            d[s.axis()] = s.start();
            parts.add(b.fill(0, new TensorType(g.type().dtype(), Shape.of(d))));
        }
        parts.add(g);
        int after = in.shape().dim(s.axis()) - s.end();
        if (after > 0) {
            d[s.axis()] = after;
            parts.add(b.fill(0, new TensorType(g.type().dtype(), Shape.of(d))));
        }
        return parts.size() == 1 ? g : b.apply(new Primitive.Concat(s.axis()), parts).getFirst();
    }

    private static List<Value> composite(Graph.Builder b, Composite op, List<Value> x, Value y, List<Value> gs, java.util.Set<Integer> zeros) {
        Value g = gs.getFirst();
        return switch (op) {
            case Composite.Linear l -> {
                Value dz = switch (l.activation()) {
                    case NONE -> g;
                    case RELU -> b.mul(g, mask(b, BinaryFn.GT, y, b.scalar(0, y)));
                    case TANH -> b.mul(g, b.sub(b.scalar(1, y), b.mul(y, y)));
                    case SIGMOID -> b.mul(g, b.mul(y, b.sub(b.scalar(1, y), y)));
                    case GELU -> throw new AssertionError("Linear+GELU differentiates through its decomposition");
                };
                yield List.of(b.matmul(dz, x.get(1), false, false), b.matmul(dz, x.get(0), true, false), b.sum(dz, List.of(0), false));
            }
            case Composite.Gelu e -> throw new AssertionError("gelu differentiates through its decomposition");
            case Composite.Softmax s -> List.of(b.mul(y, b.sub(g, b.sum(b.mul(g, y), List.of(s.axis()), true))));
            case Composite.LogSoftmax s -> List.of(b.sub(g, b.mul(b.unary(UnaryFn.EXP, y), b.sum(g, List.of(s.axis()), true))));
            case Composite.SoftmaxCrossEntropy ce -> Arrays.asList(b.apply1(new Composite.SoftmaxCrossEntropyGrad(), x.get(0), x.get(1), g), null);
            case Composite.SoftmaxCrossEntropyGrad ce -> throw new AssertionError("differentiated through its decomposition");
            case Composite.MaxPool2d m -> {
                // The gradient goes to each window's argmax: recompute the indices, scatter dy there.
                Value in = x.getFirst();
                Shape flat = Shape.of(Math.toIntExact(in.type().shape().size()));
                Value idx = b.apply1(new Primitive.MaxPool2dIndices(m.window()), in);
                int count = Math.toIntExact(g.type().shape().size());
                Value dx = b.apply1(new Primitive.ScatterAdd(0, flat), b.reshape(idx, Shape.of(count)), b.reshape(g, Shape.of(count)));
                yield List.of(b.reshape(dx, in.type().shape()));
            }
            case Composite.AvgPool2d a -> throw new AssertionError("avgpool2d differentiates through its decomposition");
            case Composite.BatchNorm n -> {
                if (!n.training()) throw new AssertionError("evaluation-mode batchnorm differentiates through its decomposition");
                yield batchNorm(b, n, x, gs, zeros);
            }
            case Composite.Attention a -> b.apply(new Composite.AttentionGrad(a.causal(), a.scale()), List.of(x.get(0), x.get(1), x.get(2), g));
            case Composite.AttentionGrad a -> throw new AssertionError("attentiongrad differentiates through its decomposition");
            case Composite.BatchNormGrad n -> throw new AssertionError("batchnormgrad differentiates through its decomposition");
            case Composite.LayerNorm n -> b.apply(new Composite.LayerNormGrad(n.axes(), n.eps()), List.of(x.get(0), x.get(1), g));
            case Composite.LayerNormGrad n -> throw new AssertionError("layernormgrad differentiates through its decomposition");
            case Composite.SgdUpdate u -> throw new UnsupportedOperationException("optimizer updates are not differentiable");
            case Composite.AdamUpdate u -> throw new UnsupportedOperationException("optimizer updates are not differentiable");
            case Composite.QuantizedLinear q -> throw new UnsupportedOperationException("quantizedlinear is for inference: int8 rounding has no useful gradient");
        };
    }

    /**
     * Training batch norm: BatchNormGrad for y's cotangent; the updated running statistics also
     * depend on x and on the old statistics, which matters only when something downstream reads them.
     */
    private static List<Value> batchNorm(Graph.Builder b, Composite.BatchNorm bn, List<Value> x, List<Value> gs, java.util.Set<Integer> zeros) {
        List<Value> d = b.apply(new Composite.BatchNormGrad(bn.eps()), List.of(x.get(0), x.get(1), gs.get(0)));
        Value gMean = gs.get(1), gVar = gs.get(2);
        if (zeros.contains(gMean.id()) && zeros.contains(gVar.id())) return Arrays.asList(d.get(0), d.get(1), d.get(2), null, null);
        Value in = x.get(0);
        Shape s = in.type().shape(), bc = Composite.BatchNorm.perChannel(s);
        double count = s.size() / (double) s.dim(1), m = bn.momentum();
        Value mean = b.mul(b.sum(in, Composite.BatchNorm.statisticsAxes(s), true), b.scalar(1 / count, in));
        // mean' = (1-m) mean + m mean(x); var' = (1-m) var + m sum((x - mean)^2) / (count - 1)
        Value viaMean = b.mul(b.reshape(gMean, bc), b.scalar(m / count, in));
        Value viaVar = b.mul(b.mul(b.reshape(gVar, bc), b.scalar(2 * m / (count - 1), in)), b.sub(in, mean));
        Value dx = b.add(d.get(0), b.add(viaMean, viaVar));
        Value keep = b.scalar(1 - m, in);
        return Arrays.asList(dx, d.get(1), d.get(2), b.mul(gMean, keep), b.mul(gVar, keep));
    }

    /** Whether {@code c} has a rule here; the others are differentiated through their decomposition. */
    static boolean hasRule(Composite c) {
        // GELU's derivative needs the pre-activation, which the fused op does not keep.
        if (c instanceof Composite.Linear l && l.activation() == Composite.Activation.GELU) return false;
        // Average pooling is a depthwise convolution and evaluation-mode batch norm is elementwise: their
        // decompositions say it already. Max pooling keeps a rule so its forward can stay native.
        if (c instanceof Composite.AvgPool2d || c instanceof Composite.BatchNorm bn && !bn.training()) return false;
        // Exact GELU's decomposition is elementwise through erf, whose rule is exp(-x^2).
        if (c instanceof Composite.Gelu) return false;
        return !(c instanceof Composite.SoftmaxCrossEntropyGrad || c instanceof Composite.LayerNormGrad || c instanceof Composite.BatchNormGrad
                || c instanceof Composite.AttentionGrad);
    }

    /** d gelu / dx written in IR ops, matching {@link UnaryFn#geluDerivative(double)}. */
    private static Value geluDerivative(Graph.Builder b, Value x) {
        double c = Math.sqrt(2 / Math.PI), k = 0.044715;
        Value x2 = b.mul(x, x);
        Value u = b.mul(b.scalar(c, x), b.add(x, b.mul(b.scalar(k, x), b.mul(x2, x))));
        Value t = b.unary(UnaryFn.TANH, u);
        Value half = b.scalar(0.5, x), one = b.scalar(1, x);
        Value du = b.mul(b.scalar(c, x), b.add(one, b.mul(b.scalar(3 * k, x), x2)));
        return b.add(b.mul(half, b.add(one, t)), b.mul(b.mul(half, x), b.mul(b.sub(one, b.mul(t, t)), du)));
    }

    /** {@code cmp(a, b)} as 0/1 in {@code a}'s floating type. */
    private static Value mask(Graph.Builder b, BinaryFn cmp, Value a, Value c) {
        DType t = a.type().dtype();
        return b.cast(b.binary(cmp, a, c), t);
    }
}
