package dev.kiln.spi.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Replaces composite nodes by their decompositions, recursively, except those a backend keeps. */
public final class Lowering {
    private Lowering() {}

    /** {@code graph} with every composite for which {@code keep} is false decomposed into primitives. */
    public static Graph decompose(Graph graph, Predicate<Composite> keep) {
        boolean any = graph.nodes().stream().anyMatch(n -> n.op() instanceof Composite c && !keep.test(c));
        if (!any) return graph;
        Graph.Builder b = new Graph.Builder(maxId(graph) + 1);
        Map<Integer, Value> renamed = new HashMap<>();
        for (Node n : graph.nodes()) {
            List<Value> in = new ArrayList<>(n.inputs().size());
            for (Value v : n.inputs()) in.add(renamed.getOrDefault(v.id(), v));
            if (n.op() instanceof Composite c && !keep.test(c)) {
                Graph.Builder sub = new Graph.Builder(b.nextId());
                List<Value> out = c.decompose(sub, in);
                Graph inner = decompose(new Graph(in, sub.nodes(), out), keep);
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
