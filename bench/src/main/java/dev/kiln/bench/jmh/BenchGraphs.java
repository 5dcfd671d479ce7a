package dev.kiln.bench.jmh;

import dev.kiln.core.DType;
import dev.kiln.runtime.autodiff.Autodiff;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * The graphs the fusion benchmarks run, written as the runtime would hand them to a plugin
 * (forward layers as Linear composites, backward as autodiff emits it). For each graph,
 * {@code donated[k]} is the input whose buffer output {@code k} is written into, or -1.
 */
final class BenchGraphs {
    private BenchGraphs() {}

    record Case(Graph graph, int[] donated) {}

    private static TensorType f32(int... d) { return TensorType.of(DType.F32, d); }

    /** relu(x @ w^T + b), x[32, 784], w[128, 784]. */
    static Case linearReluForward() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(32, 784)), w = b.input(f32(128, 784)), bias = b.input(f32(128));
        Value y = b.unary(UnaryFn.RELU, b.apply1(new Composite.Linear(Activation.NONE), x, w, bias));
        return new Case(b.build(List.of(y)), new int[] {-1});
    }

    /** The backward of that layer given y and the output gradient g: dW, db and dx. */
    static Case linearReluBackward() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(32, 784)), w = b.input(f32(128, 784)), y = b.input(f32(32, 128)), g = b.input(f32(32, 128));
        Value dz = b.mul(g, b.cast(b.binary(BinaryFn.GT, y, b.scalar(0, y)), DType.F32));
        return new Case(b.build(List.of(b.matmul(dz, x, true, false), b.sum(dz, List.of(0), false), b.matmul(dz, w, false, false))), new int[] {-1, -1, -1});
    }

    /** Loss and logits gradient of softmax cross-entropy, logits [32, 10]. */
    static Case softmaxCrossEntropy() {
        Graph.Builder b = Graph.builder();
        Value logits = b.input(f32(32, 10)), labels = b.input(TensorType.of(DType.I32, 32));
        Value loss = b.apply1(new Composite.SoftmaxCrossEntropy(), logits, labels);
        Value grad = b.apply1(new Composite.SoftmaxCrossEntropyGrad(), logits, labels, b.fill(1, f32()));
        return new Case(b.build(List.of(loss, grad)), new int[] {-1, -1});
    }

    /** One Adam step of a [128, 784] parameter, updated in place. */
    static Case adam() {
        Graph.Builder b = Graph.builder();
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < 4; i++) in.add(b.input(f32(128, 784)));
        in.add(b.input(f32()));
        in.add(b.input(f32()));
        return new Case(b.build(b.apply(new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0, false), in)), new int[] {0, 2, 3});
    }

    /** The seed training step: 784-128-ReLU-10, softmax cross-entropy, Adam, batch 32; parameters and moments in place. */
    static Case seedStep() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(32, 784)), labels = b.input(TensorType.of(DType.I32, 32));
        Value w1 = b.input(f32(128, 784)), b1 = b.input(f32(128)), w2 = b.input(f32(10, 128)), b2 = b.input(f32(10));
        Value h = b.unary(UnaryFn.RELU, b.apply1(new Composite.Linear(Activation.NONE), x, w1, b1));
        Value logits = b.apply1(new Composite.Linear(Activation.NONE), h, w2, b2);
        Value loss = b.apply1(new Composite.SoftmaxCrossEntropy(), logits, labels);
        Graph grads = Autodiff.gradients(b.build(List.of(loss, logits)), List.of(2, 3, 4, 5));
        Graph.Builder u = Graph.Builder.from(grads);
        Value lr = u.input(f32()), step = u.input(f32());
        List<Value> outs = new ArrayList<>(grads.outputs().subList(0, 2));
        List<Value> moments = new ArrayList<>();
        List<Integer> donated = new ArrayList<>(List.of(-1, -1));
        List<Integer> momentInputs = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            Value p = grads.inputs().get(2 + k);
            Value m = u.input(p.type()), v = u.input(p.type());
            List<Value> r = u.apply(new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0, false), List.of(p, grads.outputs().get(2 + k), m, v, lr, step));
            outs.add(r.get(0));
            donated.add(2 + k);
            moments.addAll(r.subList(1, 3));
            momentInputs.add(8 + 2 * k);
            momentInputs.add(9 + 2 * k);
        }
        outs.addAll(moments);
        donated.addAll(momentInputs);
        return new Case(u.build(outs), donated.stream().mapToInt(Integer::intValue).toArray());
    }
}
