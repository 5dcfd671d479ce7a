package dev.kiln.accel.xla.hlo;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.List;
import java.util.Set;

/**
 * The composites this emitter can write directly when a caller asks for them natively. Each is
 * written as its decomposition computes it, op for op, so native and decomposed runs agree; what
 * native buys is a smaller program (fewer IR values to name, no intermediate graph), since XLA
 * fuses either form. Everything else is decomposed into primitives before emitting.
 */
final class StableHloComposites {
    /** The composite records {@link #lower} accepts. */
    static final Set<Class<? extends Composite>> SUPPORTED =
            Set.of(Composite.Linear.class, Composite.Softmax.class, Composite.LogSoftmax.class, Composite.SoftmaxCrossEntropy.class);

    private final StableHloElementwise elementwise;
    private final StableHloReduce reduce;
    private final StableHloContraction contraction;
    private final StableHloSources sources;
    private final StableHloWriter w;

    StableHloComposites(StableHloWriter w, StableHloElementwise elementwise, StableHloReduce reduce, StableHloContraction contraction, StableHloSources sources) {
        this.w = w;
        this.elementwise = elementwise;
        this.reduce = reduce;
        this.contraction = contraction;
        this.sources = sources;
    }

    /** The single output of {@code c} on {@code in}; the caller checks that {@code c} is {@link #SUPPORTED}. */
    Ssa lower(Composite c, List<Ssa> in) {
        return switch (c) {
            case Composite.Linear l -> linear(l.activation(), in.get(0), in.get(1), in.get(2));
            case Composite.Softmax s -> softmax(in.getFirst(), s.axis());
            case Composite.LogSoftmax s -> logSoftmax(in.getFirst(), s.axis());
            case Composite.SoftmaxCrossEntropy s -> softmaxCrossEntropy(in.get(0), in.get(1));
            default -> throw new IllegalArgumentException(c.opName() + " has no native lowering");
        };
    }

    /** {@code act(x @ w^T + bias)}: dot_general contracts both operands' axis 1, so w is never transposed. */
    private Ssa linear(Composite.Activation act, Ssa x, Ssa weight, Ssa bias) {
        Shape out = Shape.of(x.shape().dim(0), weight.shape().dim(0));
        Ssa z = elementwise.binary(BinaryFn.ADD, contraction.matmul(x, weight, false, true, out), bias, out);
        return switch (act) {
            case NONE -> z;
            case RELU -> elementwise.unary(UnaryFn.RELU, z);
            case TANH -> elementwise.unary(UnaryFn.TANH, z);
            case SIGMOID -> elementwise.unary(UnaryFn.SIGMOID, z);
            case GELU -> elementwise.unary(UnaryFn.GELU, z);
        };
    }

    private Ssa softmax(Ssa x, int axis) {
        Ssa e = elementwise.unary(UnaryFn.EXP, shifted(x, axis));
        return elementwise.binary(BinaryFn.DIV, e, reduce.reduce(ReduceFn.SUM, e, List.of(axis), true), x.shape());
    }

    private Ssa logSoftmax(Ssa x, int axis) {
        Ssa shifted = shifted(x, axis);
        Ssa sum = reduce.reduce(ReduceFn.SUM, elementwise.unary(UnaryFn.EXP, shifted), List.of(axis), true);
        return elementwise.binary(BinaryFn.SUB, shifted, elementwise.unary(UnaryFn.LOG, sum), x.shape());
    }

    /** {@code x - max(x)} along {@code axis}, the stable shift both softmaxes start from. */
    private Ssa shifted(Ssa x, int axis) {
        return elementwise.binary(BinaryFn.SUB, x, reduce.reduce(ReduceFn.MAX, x, List.of(axis), true), x.shape());
    }

    /** {@code -mean(sum(onehot * log_softmax(logits)))}, the one-hot built as the decomposition builds it, in the logits' type. */
    private Ssa softmaxCrossEntropy(Ssa logits, Ssa labels) {
        int n = logits.shape().dim(0), classes = logits.shape().dim(1);
        HloElement e = logits.element();
        Ssa logp = logSoftmax(logits, 1);
        Ssa label = w.reshape(elementwise.cast(labels, e), Shape.of(n, 1));
        Ssa classIds = sources.iota(1, e, Shape.of(1, classes));
        Ssa oneHot = elementwise.cast(elementwise.binary(BinaryFn.EQ, label, classIds, logits.shape()), e);
        Ssa total = reduce.reduce(ReduceFn.SUM, elementwise.binary(BinaryFn.MUL, oneHot, logp, logits.shape()), List.of(0, 1), false);
        return elementwise.binary(BinaryFn.MUL, total, w.constant(-1.0 / n, e), Shape.scalar());
    }
}
