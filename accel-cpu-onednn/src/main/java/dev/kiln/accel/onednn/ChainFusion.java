package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.fusion.GraphIndex;
import dev.kiln.spi.fusion.Rule;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * Rules growing elementwise chains: a chain absorbs each single-use elementwise producer of the
 * same shape and each scalar fill it reads, one at a time, until none is left (so chains are
 * maximal at the fixed point); then a sum over the rows of a chain's result joins the chain.
 */
final class ChainFusion {
    private ChainFusion() {}

    /** A node as an expression over its own inputs, or null when it cannot be part of a chain. */
    private record Piece(ChainExpr expr, List<Value> inputs) {}

    private static Piece piece(Node n) {
        if (n.op() instanceof FusedOps.Chain c) return c.sums() == null ? new Piece(c.expr(), n.inputs()) : null;
        for (Value v : n.inputs()) if (!chainType(v.type().dtype())) return null;
        if (n.outputs().size() != 1 || !chainType(n.output().type().dtype())) return null;
        return switch (n.op()) {
            case Primitive.Unary u -> new Piece(new ChainExpr.Un(u.fn(), new ChainExpr.In(0)), n.inputs());
            case Primitive.Binary b -> n.inputs().get(0).type().dtype() == DType.F32
                    ? new Piece(new ChainExpr.Bin(b.fn(), new ChainExpr.In(0), new ChainExpr.In(1)), n.inputs()) : null;
            // bool and f32 values are both held as floats 0/1 in a chain, so these casts are the identity.
            case Primitive.Cast c -> c.to() == DType.F32 ? new Piece(new ChainExpr.In(0), n.inputs()) : null;
            default -> null;
        };
    }

    private static boolean chainType(DType t) { return t == DType.F32 || t == DType.BOOL; }

    /** Grows the chain (or elementwise node) {@code n} by one producer or inlined constants. */
    static Rule.Rewrite merge(Rule.Context cx, Node n) {
        Piece self = piece(n);
        boolean sums = n.op() instanceof FusedOps.Chain c && c.sums() != null;
        if (sums) self = new Piece(((FusedOps.Chain) n.op()).expr(), n.inputs());
        if (self == null || n.output().type().dtype() != DType.F32 || n.output().type().shape().size() == 0) return null;
        GraphIndex g = cx.index();
        Shape out = n.output().type().shape();
        List<Node> removed = new ArrayList<>(List.of(n));
        List<Value> inputs = new ArrayList<>();
        ChainExpr[] leaf = new ChainExpr[self.inputs().size()];
        boolean grew = false;
        Value merged = null;
        ChainExpr mergedExpr = null;
        for (int k = 0; k < leaf.length; k++) {
            Value v = self.inputs().get(k);
            Node p = g.producer(v);
            if (v.equals(merged)) {
                leaf[k] = mergedExpr;
                continue;
            }
            if (p != null && !removed.contains(p) && p.op() instanceof Primitive.Fill f && v.type().shape().size() == 1 && chainType(v.type().dtype())) {
                leaf[k] = new ChainExpr.Const((float) f.value());
                if (g.onlyFeeds(v, n)) removed.add(p);
                grew = true;
                continue;
            }
            Piece pp = p == null || merged != null ? null : piece(p);
            if (pp != null && v.type().shape().equals(out) && g.onlyFeeds(v, n)) {
                // One producer per rewrite keeps each step simple; the driver repeats to the fixed point.
                leaf[k] = mergedExpr = substitute(pp.expr(), pp.inputs(), inputs);
                merged = v;
                removed.add(p);
                grew = true;
                continue;
            }
            leaf[k] = new ChainExpr.In(indexOf(inputs, v));
        }
        if (!grew) return null;
        List<ChainExpr.Layout> layouts = new ArrayList<>();
        for (Value v : inputs) {
            ChainExpr.Layout l = ChainExpr.Layout.of(v.type().shape(), out);
            if (l == null) return null;
            layouts.add(l);
        }
        ChainExpr expr = replaceLeaves(self.expr(), leaf);
        Shape sumShape = sums ? ((FusedOps.Chain) n.op()).sums() : null;
        FusedOps.Chain op = new FusedOps.Chain(expr, layouts, new TensorType(DType.F32, out), sumShape);
        return new Rule.Rewrite(removed, List.of(new Node(op, inputs, n.outputs())));
    }

    /** {@code reduce_sum(x, [0])} of a rank-2 chain result: the chain also outputs its column sums. */
    static Rule.Rewrite columnSums(Rule.Context cx, Node n) {
        if (!(n.op() instanceof Primitive.Reduce r) || r.fn() != Primitive.ReduceFn.SUM || !r.axes().equals(List.of(0))) return null;
        Value x = n.inputs().getFirst();
        Node p = cx.index().producer(x);
        if (p == null || !(p.op() instanceof FusedOps.Chain c) || c.sums() != null || x.type().shape().rank() != 2) return null;
        FusedOps.Chain op = new FusedOps.Chain(c.expr(), c.layouts(), c.out(), n.output().type().shape());
        return new Rule.Rewrite(List.of(p, n), List.of(new Node(op, p.inputs(), List.of(x, n.output()))));
    }

    /** {@code e} (over {@code own} inputs) rewritten over the shared input list, adding inputs as needed. */
    private static ChainExpr substitute(ChainExpr e, List<Value> own, List<Value> shared) {
        return switch (e) {
            case ChainExpr.In in -> new ChainExpr.In(indexOf(shared, own.get(in.index())));
            case ChainExpr.Const c -> c;
            case ChainExpr.Un u -> new ChainExpr.Un(u.fn(), substitute(u.x(), own, shared));
            case ChainExpr.Bin b -> new ChainExpr.Bin(b.fn(), substitute(b.a(), own, shared), substitute(b.b(), own, shared));
        };
    }

    private static ChainExpr replaceLeaves(ChainExpr e, ChainExpr[] leaf) {
        return switch (e) {
            case ChainExpr.In in -> leaf[in.index()];
            case ChainExpr.Const c -> c;
            case ChainExpr.Un u -> new ChainExpr.Un(u.fn(), replaceLeaves(u.x(), leaf));
            case ChainExpr.Bin b -> new ChainExpr.Bin(b.fn(), replaceLeaves(b.a(), leaf), replaceLeaves(b.b(), leaf));
        };
    }

    private static int indexOf(List<Value> list, Value v) {
        int i = list.indexOf(v);
        if (i >= 0) return i;
        list.add(v);
        return list.size() - 1;
    }
}
