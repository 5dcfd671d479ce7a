package dev.kiln.runtime.exec;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The precision-policy pass: under a mixed policy, contractions (matmul, linear layers, attention) take
 * their f32 operands cast to the policy's compute type and their result is cast back to f32.
 * Everything else — elementwise math, reductions, softmax, losses, optimizer updates and the
 * master weights — stays f32. Plugins see explicit casts and may fuse them into the contraction
 * (oneDNN and cuBLASLt take bf16 operands with an f32 result directly).
 */
public final class Autocast {
    private Autocast() {}

    public static Graph apply(Graph g, PrecisionPolicy policy) {
        DType low = policy.computeType();
        if (low == DType.F32 || g.nodes().stream().noneMatch(n -> eligible(n.op(), n))) return g;
        Graph.Builder b = new Graph.Builder(Lowering.maxId(g) + 1);
        Map<Integer, Value> casts = new HashMap<>();
        for (Node n : g.nodes()) {
            if (!eligible(n.op(), n)) {
                b.add(n);
                continue;
            }
            List<Value> in = new ArrayList<>();
            for (Value v : n.inputs()) in.add(casts.computeIfAbsent(v.id(), id -> cast(b, v, low)));
            List<Value> lowOut = b.apply(n.op(), in);
            for (int i = 0; i < lowOut.size(); i++) {
                Value original = n.outputs().get(i);
                b.add(new Node(new Primitive.Cast(original.type().dtype()), List.of(lowOut.get(i)), List.of(original)));
            }
        }
        return new Graph(g.inputs(), b.nodes(), g.outputs());
    }

    /** Contractions on f32 operands run in low precision; nothing else does. */
    private static boolean eligible(Op op, Node n) {
        boolean contraction = op instanceof Primitive.MatMul || op instanceof Composite.Linear
                || op instanceof Composite.Attention || op instanceof Composite.AttentionGrad;
        return contraction && n.inputs().stream().allMatch(v -> v.type().dtype() == DType.F32);
    }

    private static Value cast(Graph.Builder b, Value v, DType to) {
        Value out = b.newValue(new TensorType(to, v.type().shape()));
        b.add(new Node(new Primitive.Cast(to), List.of(v), List.of(out)));
        return out;
    }
}
