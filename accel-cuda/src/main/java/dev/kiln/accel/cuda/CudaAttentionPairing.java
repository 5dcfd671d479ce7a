package dev.kiln.accel.cuda;

import dev.kiln.spi.fusion.GraphIndex;
import dev.kiln.spi.fusion.Rewriter;
import dev.kiln.spi.fusion.Rule;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Value;
import java.util.List;

/**
 * An {@code AttentionGrad} over the same q, k, v (and mask and scale) as an {@code Attention} in
 * the graph, as a traced training step has, reads that forward's output and row log-sum-exp
 * instead of running the forward again: the pair becomes {@link CudaAttentionLse} and
 * {@link CudaAttentionGradLse}. Only where the flash kernels run the geometry, so the paired
 * nodes always plan; elsewhere (and with fusion off) the backward recomputes on its own.
 */
final class CudaAttentionPairing {
    private CudaAttentionPairing() {}

    static Graph pair(Graph g, CudaAttention.Mode mode) {
        if (!mode.flash() || g.nodes().stream().noneMatch(n -> n.op() instanceof Composite.AttentionGrad)) return g;
        return Rewriter.rewrite(g, List.of((cx, n) -> pair(cx, n, mode)));
    }

    private static Rule.Rewrite pair(Rule.Context cx, Node n, CudaAttention.Mode mode) {
        if (!(n.op() instanceof Composite.AttentionGrad grad)) return null;
        if (!CudaAttention.flashApplies(mode, CudaAttention.AttnShape.of(n))) return null;
        Composite.Attention want = new Composite.Attention(grad.causal(), grad.scale());
        List<Value> qkv = n.inputs().subList(0, 3);
        GraphIndex index = cx.index();
        for (Node f : index.consumers(qkv.getFirst())) {
            if (!f.inputs().equals(qkv)) continue;
            if (f.op() instanceof CudaAttentionLse paired && paired.attention().equals(want)) {
                // A second backward of an already paired forward reads the same o and lse.
                return new Rule.Rewrite(List.of(n), List.of(backward(grad, n, f.outputs().get(0), f.outputs().get(1))));
            }
            if (f.op() instanceof Composite.Attention a && a.equals(want)) {
                Value lse = cx.newValue(CudaAttentionLse.lse(f.output().type()));
                Node forward = new Node(new CudaAttentionLse(a), qkv, List.of(f.output(), lse));
                return new Rule.Rewrite(List.of(f, n), List.of(forward, backward(grad, n, f.output(), lse)));
            }
        }
        return null;
    }

    private static Node backward(Composite.AttentionGrad grad, Node n, Value o, Value lse) {
        List<Value> in = List.of(n.inputs().get(0), n.inputs().get(1), n.inputs().get(2), o, lse, n.inputs().get(3));
        return new Node(new CudaAttentionGradLse(grad), in, n.outputs());
    }
}
