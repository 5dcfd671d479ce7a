package dev.kiln.tck.internal;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.runtime.autodiff.Autodiff;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.spi.ir.Window2d;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Multi-node graphs shaped like what a plugin fuses: matmul epilogues, the backward of a layer as
 * autodiff writes it, the loss forward and backward, optimizer updates and elementwise chains.
 * The kit runs each with fusion on and off and checks both against the float64 reference, so every
 * fused kernel is checked against the primitives it replaces.
 */
public final class FusionGraphs {
    private FusionGraphs() {}

    /** A graph, how to draw each input, and the longest sum any output accumulates (for tolerances). */
    public record GraphCase(String name, Graph graph, List<Sampler> samplers, int accumulation) {
        @Override public String toString() { return name; }
    }

    private static final Sampler U = Sampler.uniform(-2, 2);

    public static List<GraphCase> all() {
        List<GraphCase> c = new ArrayList<>();
        for (Activation act : Activation.values()) {
            UnaryFn fn = act == Activation.NONE ? null : UnaryFn.valueOf(act.name());
            c.add(build("linear then " + act.name().toLowerCase(java.util.Locale.ROOT), 21, b -> {
                Value x = b.input(f32(8, 20)), w = b.input(f32(12, 20)), bias = b.input(f32(12));
                Value z = b.apply1(new Composite.Linear(Activation.NONE), x, w, bias);
                return List.of(fn == null ? z : b.unary(fn, z));
            }));
            c.add(build("matmul + bias then " + act.name().toLowerCase(java.util.Locale.ROOT), 21, b -> {
                Value x = b.input(f32(8, 20)), w = b.input(f32(20, 12)), bias = b.input(f32(12));
                Value z = b.add(b.matmul(x, w, false, false), bias);
                return List.of(fn == null ? z : b.unary(fn, z));
            }));
        }
        c.add(build("relu layer forward and backward", 20, b -> {
            Value x = b.input(f32(8, 20)), w = b.input(f32(12, 20)), bias = b.input(f32(12)), g = b.input(f32(8, 12));
            Value z = b.apply1(new Composite.Linear(Activation.NONE), x, w, bias);
            Value y = b.unary(UnaryFn.RELU, z);
            Value dz = b.mul(g, b.cast(b.binary(BinaryFn.GT, z, b.scalar(0, z)), DType.F32));
            return List.of(y, b.matmul(dz, x, true, false), b.sum(dz, List.of(0), false), b.matmul(dz, w, false, false));
        }));
        c.add(build("tanh gradient and its bias gradient", 8, b -> {
            Value z = b.input(f32(8, 12)), g = b.input(f32(8, 12));
            Value y = b.unary(UnaryFn.TANH, z);
            Value dz = b.mul(g, b.sub(b.scalar(1, y), b.mul(y, y)));
            return List.of(dz, b.sum(dz, List.of(0), true));
        }));
        c.add(build("elementwise chain with broadcasts", 1, b -> {
            Value x = b.input(f32(6, 9)), row = b.input(f32(9)), col = b.input(f32(6, 1)), s = b.input(f32());
            Value e = b.add(b.unary(UnaryFn.EXP, b.neg(b.mul(b.sub(x, row), col))), s);
            Value h = b.mul(b.unary(UnaryFn.SIGMOID, x), b.unary(UnaryFn.GELU, b.div(x, b.scalar(3, x))));
            return List.of(e, h);
        }));
        c.add(convBlocks());
        c.add(new GraphCase("softmax cross-entropy forward and backward", lossGraph(), List.of(Sampler.uniform(-4, 4), Sampler.integers(0, 10)), 10));
        for (Composite op : List.of(new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0, false), new Composite.AdamUpdate(0.9, 0.99, 1e-6, 0.01, true),
                new Composite.AdamUpdate(0.8, 0.999, 1e-8, 0.01, false), new Composite.SgdUpdate(0.9, true, 0.01), new Composite.SgdUpdate(0, false, 0))) {
            c.add(optimizer(op));
        }
        return c;
    }

    /**
     * A relu layer's forward and backward as Autocast leaves them under bf16-mixed: contractions
     * on bf16 casts of their operands, cast back to f32. The outputs are cast to bf16, so they are
     * compared at bf16's tolerance: a plugin that fuses a contraction with its cast back may skip
     * the product's rounding to bf16 (one rounding fewer), which f32's tolerance would not allow.
     */
    public static List<GraphCase> mixed() {
        return List.of(build("bf16-mixed relu layer forward and backward", 20, b -> {
            Value x = b.input(f32(8, 20)), w = b.input(f32(12, 20)), bias = b.input(f32(12)), g = b.input(f32(8, 12));
            Value x16 = b.cast(x, DType.BF16), w16 = b.cast(w, DType.BF16);
            Value z = b.cast(b.apply1(new Composite.Linear(Activation.NONE), x16, w16, b.cast(bias, DType.BF16)), DType.F32);
            Value y = b.unary(UnaryFn.RELU, z);
            Value dz16 = b.cast(b.mul(g, b.cast(b.binary(BinaryFn.GT, z, b.scalar(0, z)), DType.F32)), DType.BF16);
            Value dw = b.cast(b.matmul(dz16, x16, true, false), DType.F32), dx = b.cast(b.matmul(dz16, w16, false, false), DType.F32);
            return List.of(b.cast(y, DType.BF16), b.cast(dw, DType.BF16), b.cast(dx, DType.BF16));
        }));
    }

    /** One optimizer step on a [7, 13] parameter; lr and step are scalars as a training step passes them. */
    public static GraphCase optimizer(Composite op) {
        Graph.Builder b = Graph.builder();
        boolean adam = op instanceof Composite.AdamUpdate;
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < (adam ? 4 : 3); i++) in.add(b.input(f32(7, 13)));
        in.add(b.input(f32()));
        if (adam) in.add(b.input(f32()));
        List<Sampler> s = new ArrayList<>(List.of(U, U));
        s.add(adam ? Sampler.uniform(-1, 1) : U);
        if (adam) s.add(Sampler.uniform(0.01, 1));
        s.add(Sampler.uniform(0.01, 0.1));
        if (adam) s.add(Sampler.integers(1, 5));
        return new GraphCase(op.toString(), b.build(b.apply(op, in)), s, 1);
    }

    /**
     * Two convolution blocks (conv + bias, training batch norm, relu, then max or average pooling)
     * and their gradients in every input, as autodiff writes a training step, with the updated
     * running statistics: 16 and 32 channels, so that a plugin keeping activations in
     * channel-blocked memory between kernels does so here.
     */
    public static GraphCase convBlocks() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(2, 16, 6, 6)), w1 = b.input(f32(16, 16, 3, 3)), b1 = b.input(f32(16));
        Value w2 = b.input(f32(32, 16, 3, 3)), b2 = b.input(f32(32)), gamma = b.input(f32(32)), beta = b.input(f32(32));
        Value mean = b.input(f32(32)), var = b.input(f32(32)), cot = b.input(f32(2, 32, 3, 3));
        Window2d same = Window2d.square(3, 1, 1);
        Value h1 = b.unary(UnaryFn.RELU, b.add(b.apply1(new Primitive.Conv2d(same, 1), x, w1), b.reshape(b1, Shape.of(1, 16, 1, 1))));
        Value p1 = b.apply1(new Composite.MaxPool2d(Window2d.square(2, 2, 0)), h1);
        Value z2 = b.add(b.apply1(new Primitive.Conv2d(same, 1), p1, w2), b.reshape(b2, Shape.of(1, 32, 1, 1)));
        List<Value> bn = b.apply(new Composite.BatchNorm(true, 0.1, 1e-5), List.of(z2, gamma, beta, mean, var));
        Value p2 = b.apply1(new Composite.AvgPool2d(same), b.unary(UnaryFn.RELU, bn.getFirst()));
        Value loss = b.sum(b.mul(p2, cot), List.of(0, 1, 2, 3), false);
        Graph step = Autodiff.gradients(b.build(List.of(loss, bn.get(1), bn.get(2))), List.of(0, 1, 2, 3, 4, 5, 6));
        List<Sampler> s = new ArrayList<>();
        for (int i = 0; i < step.inputs().size(); i++) s.add(i == 5 ? Sampler.uniform(0.5, 1.5) : U);
        // A weight gradient sums 2 x 6 x 6 products of sums of up to 32 x 9 terms.
        return new GraphCase("two convolution blocks with batch norm, forward and backward (16 and 32 channels)", step, s, 2 * 36 * 9);
    }

    private static Graph lossGraph() {
        Graph.Builder b = Graph.builder();
        Value logits = b.input(f32(8, 10)), labels = b.input(TensorType.of(DType.I32, 8));
        Value loss = b.apply1(new Composite.SoftmaxCrossEntropy(), logits, labels);
        Value grad = b.apply1(new Composite.SoftmaxCrossEntropyGrad(), logits, labels, b.fill(1, f32()));
        return b.build(List.of(loss, grad));
    }

    private static GraphCase build(String name, int accumulation, Function<Graph.Builder, List<Value>> body) {
        Graph.Builder b = Graph.builder();
        List<Value> out = body.apply(b);
        Graph g = b.build(out);
        List<Sampler> s = new ArrayList<>();
        for (int i = 0; i < g.inputs().size(); i++) s.add(U);
        return new GraphCase(name, g, s, accumulation);
    }

    private static TensorType f32(int... dims) { return TensorType.of(DType.F32, dims); }
}
