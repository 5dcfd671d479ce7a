package dev.kiln.accel.onednn;

import static dev.kiln.spi.fusion.Pattern.any;
import static dev.kiln.spi.fusion.Pattern.commutative;
import static dev.kiln.spi.fusion.Pattern.node;

import dev.kiln.core.Shape;
import dev.kiln.spi.fusion.GraphIndex;
import dev.kiln.spi.fusion.Match;
import dev.kiln.spi.fusion.Pattern;
import dev.kiln.spi.fusion.Rule;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.spi.ir.Window2d;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Rules that turn what the layers and autodiff write for convolution networks into oneDNN's own
 * operations: a convolution with its bias and activation as post-ops; the weight gradient with the
 * bias gradient; max pooling's forward and its scattered-argmax backward as a pair sharing oneDNN's
 * workspace; average pooling, which the IR writes as a depthwise convolution with a constant
 * kernel, as oneDNN's pooling forward and backward; and training batch norm with its gradient,
 * which then reads the forward's batch statistics. Only f32 work is rewritten.
 */
final class ConvFusion {
    private ConvFusion() {}

    private static final Predicate<Op> CONV = op -> op instanceof Primitive.Conv2d;
    private static final Predicate<Op> ADD = op -> op instanceof Primitive.Binary b && b.fn() == BinaryFn.ADD;
    private static final Predicate<Op> RESHAPE = op -> op instanceof Primitive.Reshape;
    private static final Predicate<Op> ACTIVATION = op -> op instanceof Primitive.Unary u && OneDnnFusion.activation(u.fn()) != null;

    /** conv2d(x, w) + reshape(b, [1, o, 1, 1]). */
    private static final Pattern BIASED = commutative("add", ADD, node("conv", CONV, any("x"), any("w")), node("rb", RESHAPE, any("b")));
    private static final Rule CONV_BIAS_ACT = Rule.of(node("act", ACTIVATION, BIASED),
            (cx, m) -> convBias(m, OneDnnFusion.activation(((Primitive.Unary) m.node("act").op()).fn())));
    private static final Rule CONV_BIAS = Rule.of(BIASED, (cx, m) -> convBias(m, Activation.NONE));

    static final List<Rule> RULES = List.of(CONV_BIAS_ACT, CONV_BIAS, ConvFusion::weightsWithBias, ConvFusion::maxPoolPair, ConvFusion::avgPool,
            ConvFusion::batchNormPair);

    private static List<Node> convBias(Match m, Activation act) {
        Node conv = m.node("conv");
        Value b = m.value("b");
        int o = conv.output().type().shape().dim(1);
        if (!OneDnnFusion.allF32(conv) || !b.type().equals(conv.output().type().withShape(Shape.of(o)))) return null;
        Primitive.Conv2d c = (Primitive.Conv2d) conv.op();
        return List.of(new Node(new FusedOps.ConvBias(c.window(), c.groups(), act), List.of(m.value("x"), m.value("w"), b), m.root().outputs()));
    }

    /**
     * {@code sum(dy, [0, 2, 3])} (the bias gradient, kept as [1, o, 1, 1] or not) where a weight
     * gradient of the same dy exists: both come from one oneDNN backward-weights call.
     */
    static Rule.Rewrite weightsWithBias(Rule.Context cx, Node n) {
        if (!(n.op() instanceof Primitive.Reduce r) || r.fn() != Primitive.ReduceFn.SUM || !r.axes().equals(List.of(0, 2, 3))) return null;
        Value dy = n.inputs().getFirst();
        for (Node w : cx.index().consumers(dy)) {
            if (!(w.op() instanceof Primitive.Conv2dBackwardWeights bw) || !w.inputs().get(1).equals(dy) || !OneDnnFusion.allF32(w)) continue;
            TensorType db = dy.type().withShape(Shape.of(dy.type().shape().dim(1)));
            Value sum = n.output().type().equals(db) ? n.output() : cx.newValue(db);
            List<Node> added = new ArrayList<>(List.of(new Node(new FusedOps.ConvWeightsBias(bw.window(), bw.groups(), bw.weight()), w.inputs(),
                    List.of(w.output(), sum))));
            if (sum != n.output()) added.add(new Node(new Primitive.Reshape(n.output().type().shape()), List.of(sum), n.outputs()));
            return new Rule.Rewrite(List.of(n, w), added);
        }
        return null;
    }

    /** The max-pooling gradient as autodiff writes it: dy scattered to the recomputed argmax indices, reshaped to x. */
    private static final Pattern SCATTERED = node("dx", RESHAPE,
            node("scatter", op -> op instanceof Primitive.ScatterAdd s && s.axis() == 0,
                    node("ri", RESHAPE, node("idx", op -> op instanceof Primitive.MaxPool2dIndices, any("x"))),
                    node("rg", RESHAPE, any("dy"))));

    /**
     * The scattered-argmax gradient of {@code MaxPool2d(x)}, when the forward pooling of the same x
     * is in the graph: the forward also writes oneDNN's workspace and the backward reads it.
     */
    static Rule.Rewrite maxPoolPair(Rule.Context cx, Node n) {
        Match m = Pattern.match(SCATTERED, cx.index(), n);
        if (m == null) return null;
        Value x = m.value("x"), dy = m.value("dy");
        Window2d win = ((Primitive.MaxPool2dIndices) m.node("idx").op()).window();
        if (!n.output().type().equals(x.type()) || !dy.type().shape().equals(m.node("idx").output().type().shape()) || !FusedOps.MaxPoolTrain.fits(win)) return null;
        Node forward = forwardPooling(cx.index(), x, win);
        if (forward == null || !OneDnnFusion.allF32(forward) || !OneDnnFusion.allF32(m.node("rg"))) return null;
        Value ws = cx.newValue(new FusedOps.MaxPoolTrain(win).infer(List.of(x.type())).get(1));
        List<Node> removed = new ArrayList<>(m.matched());
        removed.add(forward);
        return new Rule.Rewrite(removed, List.of(
                new Node(new FusedOps.MaxPoolTrain(win), List.of(x), List.of(forward.output(), ws)),
                new Node(new FusedOps.MaxPoolGrad(win, x.type().shape()), List.of(ws, dy), n.outputs())));
    }

    private static Node forwardPooling(GraphIndex g, Value x, Window2d win) {
        for (Node c : g.consumers(x)) if (c.op() instanceof Composite.MaxPool2d p && p.window().equals(win)) return c;
        return null;
    }

    /**
     * A depthwise convolution with the constant kernel {@code 1 / (kh kw)} is average pooling (the
     * decomposition of {@code AvgPool2d}, which autodiff differentiates through), and the
     * backward-data of one is its gradient.
     */
    static Rule.Rewrite avgPool(Rule.Context cx, Node n) {
        Window2d win;
        Value w;
        if (n.op() instanceof Primitive.Conv2d c) {
            win = poolWindow(cx.index(), c.window(), c.groups(), w = n.inputs().get(1));
        } else if (n.op() instanceof Primitive.Conv2dBackwardData c) {
            win = poolWindow(cx.index(), c.window(), c.groups(), w = n.inputs().get(1));
        } else {
            return null;
        }
        if (win == null || !OneDnnFusion.allF32(n)) return null;
        Op pool = n.op() instanceof Primitive.Conv2d ? new Composite.AvgPool2d(win)
                : new FusedOps.AvgPoolGrad(win, ((Primitive.Conv2dBackwardData) n.op()).input());
        List<Node> removed = new ArrayList<>(List.of(n));
        if (cx.index().onlyFeeds(w, n)) removed.add(cx.index().producer(w));
        return new Rule.Rewrite(removed, List.of(new Node(pool, List.of(n.inputs().getFirst()), n.outputs())));
    }

    /** The pooling window of a depthwise convolution whose weight is the fill {@code 1 / (kh kw)} [c, 1, kh, kw], or null. */
    private static Window2d poolWindow(GraphIndex g, Window2d win, int groups, Value w) {
        Node p = g.producer(w);
        Shape s = w.type().shape();
        if (p == null || !(p.op() instanceof Primitive.Fill f) || s.dim(1) != 1 || s.dim(0) != groups) return null;
        if (win.dilationH() != 1 || win.dilationW() != 1 || f.value() != 1.0 / (win.kernelH() * win.kernelW())) return null;
        return 2 * win.padH() <= win.kernelH() && 2 * win.padW() <= win.kernelW() ? win : null;
    }

    /** BatchNormGrad of x where the training BatchNorm of the same x and gamma is in the graph: the forward hands over its batch statistics. */
    static Rule.Rewrite batchNormPair(Rule.Context cx, Node n) {
        if (!(n.op() instanceof Composite.BatchNormGrad g) || !OneDnnFusion.allF32(n)) return null;
        Value x = n.inputs().get(0), gamma = n.inputs().get(1);
        for (Node f : cx.index().consumers(x)) {
            if (!(f.op() instanceof Composite.BatchNorm bn) || !bn.training() || bn.eps() != g.eps() || !f.inputs().get(0).equals(x)
                    || !f.inputs().get(1).equals(gamma) || !OneDnnFusion.allF32(f)) continue;
            TensorType stat = gamma.type();
            Value mean = cx.newValue(stat), var = cx.newValue(stat);
            List<Value> outs = new ArrayList<>(f.outputs());
            outs.addAll(List.of(mean, var));
            return new Rule.Rewrite(List.of(f, n), List.of(
                    new Node(new FusedOps.BatchNormTrain(bn.momentum(), bn.eps()), f.inputs(), outs),
                    new Node(new FusedOps.BatchNormTrainGrad(g.eps()), List.of(x, gamma, mean, var, n.inputs().get(2)), n.outputs())));
        }
        return null;
    }

    /** {@code mul($0, gt($1, 0))}: a gradient masked where an activation is positive (relu's backward). */
    private static final ChainExpr MASK = new ChainExpr.Bin(BinaryFn.MUL, new ChainExpr.In(0),
            new ChainExpr.Bin(BinaryFn.GT, new ChainExpr.In(1), new ChainExpr.Const(0)));

    /**
     * {@code mask(MaxPoolGrad(ws, dy), y)} where y is the pooled input: a window's maximum is the
     * value at its argmax, the only element its gradient reaches, so masking by the pooled output
     * before the scatter gives the same result on the pooled tensor (a quarter of the elements
     * for 2x2 windows), and the full-size mask pass goes. Run on chains, after {@link ChainFusion}.
     */
    static Rule.Rewrite maskBeforeMaxPoolGrad(Rule.Context cx, Node n) {
        if (!(n.op() instanceof FusedOps.Chain c) || c.sums() != null || !c.expr().equals(MASK)) return null;
        GraphIndex g = cx.index();
        Value dx = n.inputs().get(0), y = n.inputs().get(1);
        Node grad = g.producer(dx), train = grad == null ? null : g.producer(grad.inputs().getFirst());
        if (!(grad != null && grad.op() instanceof FusedOps.MaxPoolGrad) || !g.onlyFeeds(dx, n)) return null;
        if (!(train != null && train.op() instanceof FusedOps.MaxPoolTrain) || !train.inputs().getFirst().equals(y)) return null;
        Value dy = grad.inputs().get(1), masked = cx.newValue(dy.type());
        FusedOps.Chain small = new FusedOps.Chain(MASK, c.layouts(), dy.type(), null);
        return new Rule.Rewrite(List.of(n, grad), List.of(
                new Node(small, List.of(dy, train.output()), List.of(masked)),
                new Node(grad.op(), List.of(grad.inputs().getFirst(), masked), n.outputs())));
    }
}
