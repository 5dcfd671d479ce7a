package dev.kiln.spi.fusion;

import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A tree pattern over the values of a graph, matched from a root node upwards through producers:
 * {@code node("act", isRelu, node("add", isAdd, node("mm", isMatmul, any("x"), any("w")), any("b")))}.
 * Names bind values and nodes for the rule's replacement; a name bound twice must match the
 * same value. Interior nodes may have other readers: the {@link Rewriter} accepts a rewrite only
 * if the replacement still defines every value read outside the match.
 */
public sealed interface Pattern {

    /** Any value, bound to {@code name}. */
    static Pattern any(String name) { return new Any(name); }

    /** A value computed by a node whose op passes {@code test} and whose inputs match {@code inputs} in order. */
    static Pattern node(String name, Predicate<Op> test, Pattern... inputs) { return new OfNode(name, test, List.of(inputs), false); }

    /** As {@link #node}, for a two-input op whose inputs may match in either order (add, mul). */
    static Pattern commutative(String name, Predicate<Op> test, Pattern a, Pattern b) { return new OfNode(name, test, List.of(a, b), true); }

    /** Matches {@code root}'s node; null when it does not match. */
    static Match match(Pattern root, GraphIndex g, Node anchor) {
        if (!(root instanceof OfNode top)) throw new IllegalArgumentException("a pattern's root must be a node pattern");
        Map<String, Value> values = new HashMap<>();
        Map<String, Node> nodes = new HashMap<>();
        List<Node> matched = new ArrayList<>();
        return top.matchNode(g, anchor, values, nodes, matched) ? new Match(values, nodes, matched) : null;
    }

    /** Binds a value under a name. */
    record Any(String name) implements Pattern {}

    /** A node pattern. */
    record OfNode(String name, Predicate<Op> test, List<Pattern> inputs, boolean commutative) implements Pattern {
        boolean matchNode(GraphIndex g, Node n, Map<String, Value> values, Map<String, Node> nodes, List<Node> matched) {
            if (!test.test(n.op()) || n.inputs().size() != inputs.size() || n.outputs().size() != 1) return false;
            if (tryOrder(g, n, false, values, nodes, matched)) return true;
            return commutative && tryOrder(g, n, true, values, nodes, matched);
        }

        private boolean tryOrder(GraphIndex g, Node n, boolean swap, Map<String, Value> values, Map<String, Node> nodes, List<Node> matched) {
            Map<String, Value> v = new HashMap<>(values);
            Map<String, Node> ns = new HashMap<>(nodes);
            List<Node> m = new ArrayList<>(matched);
            if (!bind(v, name, n.output())) return false;
            ns.put(name, n);
            m.add(n);
            for (int i = 0; i < inputs.size(); i++) {
                Value in = n.inputs().get(swap ? inputs.size() - 1 - i : i);
                if (!matchValue(inputs.get(i), g, in, v, ns, m)) return false;
            }
            values.putAll(v);
            nodes.putAll(ns);
            matched.clear();
            matched.addAll(m);
            return true;
        }
    }

    private static boolean matchValue(Pattern p, GraphIndex g, Value v, Map<String, Value> values, Map<String, Node> nodes, List<Node> matched) {
        return switch (p) {
            case Any a -> bind(values, a.name(), v);
            case OfNode o -> {
                Node producer = g.producer(v);
                yield producer != null && !matched.contains(producer) && o.matchNode(g, producer, values, nodes, matched);
            }
        };
    }

    private static boolean bind(Map<String, Value> values, String name, Value v) {
        Value old = values.putIfAbsent(name, v);
        return old == null || old.equals(v);
    }
}
