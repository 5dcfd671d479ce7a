package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.fusion.GraphIndex;
import dev.kiln.spi.fusion.Rewriter;
import dev.kiln.spi.fusion.Rule;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Value;
import java.util.List;

/**
 * {@code cast(contraction(half...), f32)} becomes one {@link CudaWidening} when the contraction's
 * half result feeds nothing else. Linear layers qualify when their activation runs in the cuBLASLt
 * epilogue (none, ReLU, and GELU, whose epilogue this plugin uses for half types) and their bias is
 * autocast's cast of an f32 bias: cuBLASLt wants the bias in D's type, so the widened node takes
 * the f32 original (and the cast goes when nothing else reads it).
 */
final class CudaWideningFusion {
    private CudaWideningFusion() {}

    static Graph fuse(Graph g) { return Rewriter.rewrite(g, List.of(CudaWideningFusion::widen)); }

    private static Rule.Rewrite widen(Rule.Context cx, Node n) {
        if (!(n.op() instanceof Primitive.Cast c) || c.to() != DType.F32) return null;
        Value v = n.inputs().getFirst();
        DType from = v.type().dtype();
        if (from != DType.BF16 && from != DType.F16) return null;
        GraphIndex g = cx.index();
        Node p = g.producer(v);
        if (p == null || !g.onlyFeeds(v, n) || p.outputs().size() != 1) return null;
        boolean contraction = p.op() instanceof Primitive.MatMul
                || p.op() instanceof Composite.Linear l && l.activation() != Composite.Activation.TANH && l.activation() != Composite.Activation.SIGMOID;
        if (!contraction) return null;
        List<Node> replaced = new java.util.ArrayList<>(List.of(p, n));
        List<Value> inputs = new java.util.ArrayList<>(p.inputs());
        if (p.op() instanceof Composite.Linear) {
            Value bias = inputs.get(2);
            Node cast = g.producer(bias);
            if (cast == null || !(cast.op() instanceof Primitive.Cast) || cast.inputs().getFirst().type().dtype() != DType.F32) return null;
            inputs.set(2, cast.inputs().getFirst());
            if (g.onlyFeeds(bias, p)) replaced.add(0, cast);
        }
        return new Rule.Rewrite(replaced, List.of(new Node(new CudaWidening(p.op(), DType.F32), inputs, n.outputs())));
    }
}
