package dev.kiln.spi.fusion;

import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one rewrite driver: tries each rule of a table on each node, last node first (so a pattern
 * anchored at the end of a chain sees the whole chain), applies the first valid rewrite and
 * starts again, until no rule applies. Values keep their ids, so graph inputs and outputs are
 * untouched; nodes are re-sorted topologically after each rewrite.
 */
public final class Rewriter {
    private Rewriter() {}

    /** A safety stop: every accepted rewrite removes at least one node, so this is never reached by a sane table. */
    private static final int MAX_REWRITES = 100_000;

    public static Graph rewrite(Graph graph, List<Rule> rules) {
        int[] next = {Lowering.maxId(graph) + 1};
        Graph g = graph;
        for (int done = 0; done < MAX_REWRITES; done++) {
            Graph r = once(g, rules, next);
            if (r == null) return g;
            g = r;
        }
        throw new IllegalStateException("fusion rules did not reach a fixed point after " + MAX_REWRITES + " rewrites");
    }

    private static Graph once(Graph g, List<Rule> rules, int[] next) {
        GraphIndex index = new GraphIndex(g);
        Rule.Context cx = new Rule.Context() {
            @Override public GraphIndex index() { return index; }

            @Override public Value newValue(TensorType type) { return new Value(next[0]++, type); }
        };
        List<Node> nodes = g.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            for (Rule rule : rules) {
                Rule.Rewrite rw = rule.apply(cx, nodes.get(i));
                if (rw == null) continue;
                Graph applied = apply(g, index, rw);
                if (applied != null) return applied;
            }
        }
        return null;
    }

    /** The graph with {@code rw} applied, or null when it would leave a value undefined or make a cycle. */
    static Graph apply(Graph g, GraphIndex index, Rule.Rewrite rw) {
        if (rw.removed().isEmpty()) return null;
        Set<Node> removed = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        removed.addAll(rw.removed());
        Set<Integer> defined = new HashSet<>();
        for (Node n : rw.added()) for (Value v : n.outputs()) defined.add(v.id());
        for (Node n : removed) {
            for (Value v : n.outputs()) {
                boolean readOutside = index.isGraphOutput(v) || index.consumers(v).stream().anyMatch(c -> !removed.contains(c));
                if (readOutside && !defined.contains(v.id())) return null;
            }
        }
        // The added nodes take the place of the last removed node; the sort below moves them where their inputs allow.
        int last = -1;
        for (int i = 0; i < g.nodes().size(); i++) if (removed.contains(g.nodes().get(i))) last = i;
        List<Node> order = new ArrayList<>();
        for (int i = 0; i < g.nodes().size(); i++) {
            Node n = g.nodes().get(i);
            if (i == last) order.addAll(rw.added());
            if (!removed.contains(n)) order.add(n);
        }
        List<Node> sorted = topological(order);
        if (sorted == null) return null;
        Set<Integer> known = new HashSet<>();
        for (Value v : g.inputs()) known.add(v.id());
        for (Node n : sorted) {
            for (Value v : n.inputs()) if (!known.contains(v.id())) return null;
            for (Value v : n.outputs()) known.add(v.id());
        }
        for (Value v : g.outputs()) if (!known.contains(v.id())) return null;
        return new Graph(g.inputs(), sorted, g.outputs());
    }

    /** A stable topological order (each node as early as its inputs allow, else in given order); null on a cycle. */
    static List<Node> topological(List<Node> nodes) {
        Map<Integer, Node> producer = new HashMap<>();
        for (Node n : nodes) for (Value v : n.outputs()) producer.put(v.id(), n);
        Map<Node, Integer> state = new IdentityHashMap<>(); // 1 visiting, 2 done
        List<Node> out = new ArrayList<>(nodes.size());
        for (Node n : nodes) if (!visit(n, producer, state, out)) return null;
        return out;
    }

    private static boolean visit(Node n, Map<Integer, Node> producer, Map<Node, Integer> state, List<Node> out) {
        Integer s = state.get(n);
        if (s != null) return s == 2;
        state.put(n, 1);
        for (Value v : n.inputs()) {
            Node p = producer.get(v.id());
            if (p != null && !visit(p, producer, state, out)) return false;
        }
        state.put(n, 2);
        out.add(n);
        return true;
    }
}
