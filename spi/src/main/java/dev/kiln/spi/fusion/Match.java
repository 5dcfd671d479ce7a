package dev.kiln.spi.fusion;

import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Value;
import java.util.List;
import java.util.Map;

/** What a {@link Pattern} bound: values and nodes by name, and every matched node (root first). */
public record Match(Map<String, Value> values, Map<String, Node> nodes, List<Node> matched) {
    public Match {
        values = Map.copyOf(values);
        nodes = Map.copyOf(nodes);
        matched = List.copyOf(matched);
    }

    public Value value(String name) {
        Value v = values.get(name);
        if (v == null) throw new IllegalArgumentException("pattern bound no value '" + name + "'");
        return v;
    }

    public Node node(String name) {
        Node n = nodes.get(name);
        if (n == null) throw new IllegalArgumentException("pattern bound no node '" + name + "'");
        return n;
    }

    public Node root() { return matched.getFirst(); }
}
