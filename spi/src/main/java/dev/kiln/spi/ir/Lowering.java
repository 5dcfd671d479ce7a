package dev.kiln.spi.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Rewrites nodes a backend does not take as they are: composites into their decompositions, and
 * primitives it declared unsupported into their {@link Fallbacks}; both recursively.
 */
public final class Lowering {
    private Lowering() {}

    /** {@code graph} with every composite for which {@code keep} is false decomposed into primitives. */
    public static Graph decompose(Graph graph, Predicate<Composite> keep) {
        return rewrite(graph, n -> n.op() instanceof Composite c && !keep.test(c), (n, sub, in) -> ((Composite) n.op()).decompose(sub, in));
    }

    /**
     * {@code graph} with every primitive for which {@code supported} is false spelled in other
     * primitives ({@link Fallbacks}).
     *
     * @throws UnsupportedPrimitiveException naming {@code plugin} and the node, when one has no fallback
     */
    public static Graph replaceUnsupported(Graph graph, Predicate<Primitive> supported, String plugin) {
        return rewrite(graph, n -> n.op() instanceof Primitive p && !supported.test(p), (n, sub, in) -> {
            List<Value> out = Fallbacks.of((Primitive) n.op(), sub, in);
            if (out == null) throw new UnsupportedPrimitiveException(plugin, new Node(n.op(), in, n.outputs()));
            return out;
        });
    }

    /** How a node is spelled in other ops, appended to {@code sub}. */
    private interface Spelling {
        List<Value> apply(Node node, Graph.Builder sub, List<Value> inputs);
    }

    /** {@code graph} with each node {@code rewritten} accepts replaced by its spelling, which is rewritten in turn. */
    private static Graph rewrite(Graph graph, Predicate<Node> rewritten, Spelling spelling) {
        if (graph.nodes().stream().noneMatch(rewritten)) return graph;
        Graph.Builder b = new Graph.Builder(maxId(graph) + 1);
        Map<Integer, Value> renamed = new HashMap<>();
        for (Node n : graph.nodes()) {
            List<Value> in = new ArrayList<>(n.inputs().size());
            for (Value v : n.inputs()) in.add(renamed.getOrDefault(v.id(), v));
            if (rewritten.test(n)) {
                Graph.Builder sub = new Graph.Builder(b.nextId());
                List<Value> out = spelling.apply(n, sub, in);
                Graph inner = rewrite(new Graph(in, sub.nodes(), out), rewritten, spelling);
                for (Node node : inner.nodes()) b.add(node);
                b.advanceTo(maxId(inner) + 1);
                for (int i = 0; i < out.size(); i++) renamed.put(n.outputs().get(i).id(), inner.outputs().get(i));
            } else {
                b.add(new Node(n.op(), in, n.outputs()));
            }
        }
        List<Value> outs = new ArrayList<>();
        for (Value v : graph.outputs()) outs.add(renamed.getOrDefault(v.id(), v));
        return new Graph(graph.inputs(), b.nodes(), outs);
    }

    public static int maxId(Graph g) {
        int m = -1;
        for (Value v : g.inputs()) m = Math.max(m, v.id());
        for (Node n : g.nodes()) for (Value v : n.outputs()) m = Math.max(m, v.id());
        return m;
    }
}
