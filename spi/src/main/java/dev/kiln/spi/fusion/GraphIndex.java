package dev.kiln.spi.fusion;

import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Who produces and who reads each value of a graph: what a rule needs to decide whether a fusion is safe. */
public final class GraphIndex {
    private final Graph graph;
    private final Map<Integer, Node> producer = new HashMap<>();
    private final Map<Integer, List<Node>> consumers = new HashMap<>();
    private final Set<Integer> outputs = new HashSet<>();

    public GraphIndex(Graph graph) {
        this.graph = graph;
        for (Node n : graph.nodes()) {
            for (Value v : n.outputs()) producer.put(v.id(), n);
            for (Value v : n.inputs()) {
                List<Node> c = consumers.computeIfAbsent(v.id(), k -> new ArrayList<>());
                if (!c.contains(n)) c.add(n);
            }
        }
        for (Value v : graph.outputs()) outputs.add(v.id());
    }

    public Graph graph() { return graph; }

    /** The node computing {@code v}, or null for a graph input. */
    public Node producer(Value v) { return producer.get(v.id()); }

    /** The distinct nodes reading {@code v}, in graph order. */
    public List<Node> consumers(Value v) { return consumers.getOrDefault(v.id(), List.of()); }

    public boolean isGraphOutput(Value v) { return outputs.contains(v.id()); }

    /** Whether {@code v} is read by {@code reader} alone and is not a graph output: it can live inside a fused kernel. */
    public boolean onlyFeeds(Value v, Node reader) {
        List<Node> c = consumers(v);
        return !isGraphOutput(v) && c.size() == 1 && c.getFirst() == reader;
    }
}
