package dev.kiln.accel.onednn;

import static dev.kiln.spi.fusion.Pattern.any;
import static dev.kiln.spi.fusion.Pattern.commutative;
import static dev.kiln.spi.fusion.Pattern.node;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.fusion.GraphIndex;
import dev.kiln.spi.fusion.Match;
import dev.kiln.spi.fusion.Pattern;
import dev.kiln.spi.fusion.Rewriter;
import dev.kiln.spi.fusion.Rule;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.Value;
import java.util.List;
import java.util.function.Predicate;

/**
 * The oneDNN plugin's fusion rule tables, run in order on the lowered graph of f32 work:
 * (1) algebra that frees values for fusion, (2) mixed-precision contractions with their casts
 * back to f32 and their activations as single matmuls, matmul epilogues as oneDNN post-ops and
 * convolution networks' patterns as oneDNN's own operations ({@link ConvFusion}),
 * (3) elementwise chains and their column sums as single Java passes ({@link ChainFusion}),
 * then (4) the memory format of every activation ({@link MemoryFormats}).
 */
final class OneDnnFusion {
    private OneDnnFusion() {}

    static Graph fuse(Graph g) {
        g = Rewriter.rewrite(g, List.of(OneDnnFusion::reluMaskFromOutput));
        g = Rewriter.rewrite(g, List.of(LOW_LINEAR, LOW_MATMUL, LOW_BIAS_ACT, LOW_ACT));
        List<Rule> epilogues = new java.util.ArrayList<>(List.of(LINEAR_ACT, QUANTIZED_LINEAR_RELU, MATMUL_BIAS_ACT, MATMUL_BIAS));
        epilogues.addAll(ConvFusion.RULES);
        g = Rewriter.rewrite(g, epilogues);
        g = Rewriter.rewrite(g, List.of(ChainFusion::columnSums, ChainFusion::merge, ConvFusion::maskBeforeMaxPoolGrad));
        return MemoryFormats.place(g);
    }

    // ---- (1) algebra ----------------------------------------------------------------------------

    /**
     * {@code gt(z, 0)} where {@code y = relu(z)} exists becomes {@code gt(y, 0)} (equal, since
     * relu(z) > 0 exactly when z > 0): the backward mask then no longer keeps the pre-activation
     * alive, so the forward can fuse relu into its matmul.
     */
    private static Rule.Rewrite reluMaskFromOutput(Rule.Context cx, Node n) {
        if (!(n.op() instanceof Primitive.Binary b) || b.fn() != BinaryFn.GT) return null;
        GraphIndex g = cx.index();
        Value z = n.inputs().get(0), zero = n.inputs().get(1);
        Node zp = g.producer(zero), producer = g.producer(z);
        if (zp == null || !(zp.op() instanceof Primitive.Fill f) || f.value() != 0) return null;
        if (producer != null && isUnary(producer.op(), UnaryFn.RELU)) return null;
        for (Node c : g.consumers(z)) {
            if (isUnary(c.op(), UnaryFn.RELU) && c.output().type().equals(z.type())) {
                return new Rule.Rewrite(List.of(n), List.of(new Node(n.op(), List.of(c.output(), zero), n.outputs())));
            }
        }
        return null;
    }

    // ---- (2) matmul epilogues -------------------------------------------------------------------

    private static final Predicate<Op> ACTIVATION = op -> op instanceof Primitive.Unary u && activation(u.fn()) != null;
    private static final Predicate<Op> ADD = op -> op instanceof Primitive.Binary b && b.fn() == BinaryFn.ADD;
    private static final Predicate<Op> MATMUL = op -> op instanceof Primitive.MatMul;
    private static final Predicate<Op> LINEAR = op -> op instanceof Composite.Linear l && l.activation() == Activation.NONE;

    /** Linear followed by its activation: the Linear composite with the activation as oneDNN post-op. */
    private static final Rule LINEAR_ACT = Rule.of(node("act", ACTIVATION, node("lin", LINEAR, any("x"), any("w"), any("b"))), (cx, m) -> {
        Node lin = m.node("lin");
        if (!allF32(lin)) return null;
        Activation act = activation(((Primitive.Unary) m.node("act").op()).fn());
        return List.of(new Node(new Composite.Linear(act), lin.inputs(), m.root().outputs()));
    });

    private static final Predicate<Op> QUANTIZED_LINEAR = op -> op instanceof Composite.QuantizedLinear q && q.activation() == Activation.NONE;

    /**
     * An int8 linear layer followed by ReLU (a quantized model keeps its ReLU modules, as
     * PyTorch's quantize_dynamic does): one int8 matmul with ReLU as its post-op.
     */
    private static final Rule QUANTIZED_LINEAR_RELU = Rule.of(
            node("act", op -> isUnary(op, UnaryFn.RELU), node("q", QUANTIZED_LINEAR, any("x"), any("wq"), any("ws"), any("b"))), (cx, m) -> {
                Node q = m.node("q");
                if (q.inputs().getFirst().type().dtype() != DType.F32) return null;
                return List.of(new Node(new Composite.QuantizedLinear(Activation.RELU), q.inputs(), m.root().outputs()));
            });

    private static final Rule MATMUL_BIAS_ACT = Rule.of(
            node("act", ACTIVATION, commutative("add", ADD, node("mm", MATMUL, any("a"), any("b")), any("bias"))),
            (cx, m) -> matmulBias(m, activation(((Primitive.Unary) m.node("act").op()).fn())));

    private static final Rule MATMUL_BIAS = Rule.of(
            commutative("add", ADD, node("mm", MATMUL, any("a"), any("b")), any("bias")), (cx, m) -> matmulBias(m, Activation.NONE));

    private static List<Node> matmulBias(Match m, Activation act) {
        Node mm = m.node("mm");
        Value bias = m.value("bias"), out = mm.output();
        if (!allF32(mm) || out.type().shape().rank() != 2 || bias.type().dtype() != DType.F32) return null;
        Shape bs = bias.type().shape();
        int n = out.type().shape().dim(1);
        if (!(bs.equals(Shape.of(n)) || bs.equals(Shape.of(1, n)))) return null;
        Primitive.MatMul op = (Primitive.MatMul) mm.op();
        return List.of(new Node(new FusedOps.MatMulBias(op.transA(), op.transB(), act), List.of(m.value("a"), m.value("b"), bias), m.root().outputs()));
    }

    // ---- (2) mixed precision --------------------------------------------------------------------

    private static final Predicate<Op> TO_F32 = op -> op instanceof Primitive.Cast c && c.to() == DType.F32;

    /** Autocast's linear layer: {@code cast_f32(linear(x16, w16, b16))}, one matmul with a bias and an f32 result. */
    private static final Rule LOW_LINEAR = Rule.of(node("cast", TO_F32, node("lin", LINEAR, any("x"), any("w"), any("b"))), (cx, m) -> {
        Node lin = m.node("lin");
        if (!lowOperands(lin)) return null;
        return List.of(new Node(new FusedOps.LowMatMul(false, true, true, Activation.NONE), lin.inputs(), m.root().outputs()));
    });

    /** Autocast's matmul: {@code cast_f32(matmul(a16, b16))} on rank-2 operands, one matmul with an f32 result. */
    private static final Rule LOW_MATMUL = Rule.of(node("cast", TO_F32, node("mm", MATMUL, any("a"), any("b"))), (cx, m) -> {
        Node mm = m.node("mm");
        if (!lowOperands(mm) || mm.inputs().get(0).type().shape().rank() != 2 || mm.inputs().get(1).type().shape().rank() != 2) return null;
        Primitive.MatMul op = (Primitive.MatMul) mm.op();
        return List.of(new Node(new FusedOps.LowMatMul(op.transA(), op.transB(), false, Activation.NONE), mm.inputs(), m.root().outputs()));
    });

    private static final Predicate<Op> LOW_NO_ACT = op -> op instanceof FusedOps.LowMatMul l && l.activation() == Activation.NONE;

    /** The activation of a mixed-precision layer as the matmul's post-op, on its f32 result (with a bias, and without). */
    private static final Rule LOW_BIAS_ACT = lowAct(any("a"), any("b"), any("bias")), LOW_ACT = lowAct(any("a"), any("b"));

    private static Rule lowAct(Pattern... operands) {
        return Rule.of(node("act", ACTIVATION, node("low", LOW_NO_ACT, operands)), (cx, m) -> {
            FusedOps.LowMatMul low = (FusedOps.LowMatMul) m.node("low").op();
            Activation act = activation(((Primitive.Unary) m.node("act").op()).fn());
            return List.of(new Node(new FusedOps.LowMatMul(low.transA(), low.transB(), low.bias(), act), m.node("low").inputs(), m.root().outputs()));
        });
    }

    /**
     * Non-empty bf16 operands on a CPU with bf16 arithmetic: where oneDNN's bf16 matmul runs
     * natively (without it, and for f16, the plugin runs these contractions in Java, unfused).
     */
    private static boolean lowOperands(Node n) {
        for (Value v : n.inputs()) if (v.type().dtype() != DType.BF16 || v.type().shape().size() == 0) return false;
        return CpuFeatures.bf16();
    }

    static Activation activation(UnaryFn fn) {
        return switch (fn) {
            case RELU -> Activation.RELU;
            case TANH -> Activation.TANH;
            case SIGMOID -> Activation.SIGMOID;
            case GELU -> Activation.GELU;
            default -> null;
        };
    }

    static boolean isUnary(Op op, UnaryFn fn) { return op instanceof Primitive.Unary u && u.fn() == fn; }

    static boolean allF32(Node n) {
        for (Value v : n.inputs()) if (v.type().dtype() != DType.F32 || v.type().shape().size() == 0) return false;
        for (Value v : n.outputs()) if (v.type().dtype() != DType.F32 || v.type().shape().size() == 0) return false;
        return true;
    }
}
