package dev.kiln.runtime.exec;

import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Graph-to-graph passes the runtime runs before handing a graph to a plugin. */
public final class Passes {
    private Passes() {}

    /** Removes nodes none of whose outputs reach a graph output. */
    public static Graph deadCodeElimination(Graph g) {
        Set<Integer> live = new HashSet<>();
        for (Value v : g.outputs()) live.add(v.id());
        List<Node> kept = new ArrayList<>();
        for (int i = g.nodes().size() - 1; i >= 0; i--) {
            Node n = g.nodes().get(i);
            if (n.outputs().stream().anyMatch(v -> live.contains(v.id()))) {
                kept.add(n);
                for (Value v : n.inputs()) live.add(v.id());
            }
        }
        if (kept.size() == g.nodes().size()) return g;
        Collections.reverse(kept);
        return new Graph(g.inputs(), kept, g.outputs());
    }
}
