package dev.kiln.accel.xla.hlo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.runtime.autodiff.Autodiff;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A whole training step of a 2-layer MLP, built from primitives and differentiated by the
 * runtime's autodiff (on this module's test class path through the conformance kit): forward,
 * softmax cross-entropy, the backward graph autodiff writes, and SGD, with the parameters donated
 * to their updated outputs.
 */
class StableHloTrainingStepTest {
    private static final int BATCH = 8, IN = 4, HIDDEN = 16, CLASSES = 3;

    @Test
    void mlpStepEmitsAsOneModule() {
        Graph step = step();
        Map<Integer, Integer> donations = new HashMap<>();
        for (int p = 0; p < 4; p++) donations.put(2 + p, 1 + p);
        StableHloEmitter.Options options = StableHloEmitter.Options.defaults().withDonations(donations);
        MlirText t = StableHloEmitterTest.check(step, options);
        StableHloEmitterTest.checkAgainstGraph(t, step, Set.of());

        assertEquals("tensor<f32>", t.resultTypes().getFirst());
        for (int p = 0; p < 4; p++) assertEquals("tf.aliasing_output = " + (1 + p) + " : i32", t.args().get(2 + p).attributes());
        assertTrue(t.count("stablehlo.dot_general") >= 6, "two forward matmuls and at least four for their gradients");
        assertTrue(t.count("stablehlo.reduce") >= 4, "softmax max and sum, bias gradients");
    }

    @Test
    void nativeLossLowersTheSameStep() {
        // The loss is a composite: native, it is written directly instead of through its decomposition.
        Graph f = forward();
        StableHloEmitter.Options options = StableHloEmitter.Options.defaults().withNativeComposites(Set.of(Composite.SoftmaxCrossEntropy.class, Composite.Linear.class));
        MlirText t = StableHloEmitterTest.check(f, options);
        assertEquals("tensor<f32>", t.resultTypes().getFirst());
    }

    /** Inputs x, labels, w1, b1, w2, b2; outputs the loss. */
    private static Graph forward() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, BATCH, IN));
        Value labels = b.input(TensorType.of(DType.I32, BATCH));
        Value w1 = b.input(TensorType.of(DType.F32, HIDDEN, IN)), b1 = b.input(TensorType.of(DType.F32, HIDDEN));
        Value w2 = b.input(TensorType.of(DType.F32, CLASSES, HIDDEN)), b2 = b.input(TensorType.of(DType.F32, CLASSES));
        Value h = b.unary(UnaryFn.RELU, b.add(b.matmul(x, w1, false, true), b1));
        Value logits = b.add(b.matmul(h, w2, false, true), b2);
        Value loss = b.apply1(new Composite.SoftmaxCrossEntropy(), logits, labels);
        return b.build(List.of(loss));
    }

    /** The forward, its gradients in w1, b1, w2, b2, and {@code p - 0.1 g} for each: outputs loss, w1', b1', w2', b2'. */
    private static Graph step() {
        Graph grads = Autodiff.gradients(forward(), List.of(2, 3, 4, 5));
        Graph.Builder b = Graph.Builder.from(grads);
        Value lr = b.fill(0.1, new TensorType(DType.F32, Shape.scalar()));
        List<Value> outs = new ArrayList<>(List.of(grads.outputs().getFirst()));
        for (int p = 0; p < 4; p++) outs.add(b.sub(grads.inputs().get(2 + p), b.mul(grads.outputs().get(1 + p), lr)));
        return b.build(outs);
    }
}
