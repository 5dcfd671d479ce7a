package dev.kiln.runtime.autodiff;

import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation of graphs: the forward nodes are kept, then each node on a path
 * from a requested input to the loss contributes its {@link VjpRules VJP rule}, in reverse order.
 * Backward is just more graph, so the same compiler and plugins run it.
 */
public final class Autodiff {
    private Autodiff() {}

    /**
     * A graph with the inputs of {@code f} whose outputs are {@code f}'s outputs followed by the
     * gradient of {@code f}'s first output (a floating scalar) with respect to each input in {@code wrt}.
     */
    public static Graph gradients(Graph f, List<Integer> wrt) {
        f = Lowering.decompose(f, VjpRules::hasRule);
        Value loss = f.outputs().getFirst();
        if (loss.type().shape().rank() != 0 || !loss.type().dtype().isFloating()) {
            throw new IllegalArgumentException("gradients need a floating scalar loss, got " + loss.type());
        }
        Set<Integer> active = activeValues(f, wrt);
        Graph.Builder b = new Graph.Builder(Lowering.maxId(f) + 1);
        for (Node n : f.nodes()) b.add(n);

        Map<Integer, Value> adjoint = new HashMap<>();
        adjoint.put(loss.id(), b.fill(1.0, loss.type()));
        List<Node> nodes = f.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.outputs().stream().noneMatch(v -> adjoint.containsKey(v.id()))) continue;
            if (n.inputs().stream().noneMatch(v -> active.contains(v.id()))) continue;
            List<Value> cotangents = new ArrayList<>();
            Set<Integer> zeros = new HashSet<>();
            for (Value out : n.outputs()) {
                Value g = adjoint.get(out.id());
                if (g == null) {
                    g = b.fill(0.0, out.type());
                    zeros.add(g.id());
                }
                cotangents.add(g);
            }
            List<Value> grads = VjpRules.vjp(b, n, cotangents, zeros);
            for (int j = 0; j < n.inputs().size(); j++) {
                Value in = n.inputs().get(j), g = grads.get(j);
                if (g == null || !active.contains(in.id())) continue;
                if (!g.type().equals(in.type())) {
                    throw new IllegalStateException("VJP of " + n.op().opName() + " gave " + g.type() + " for input " + in);
                }
                adjoint.merge(in.id(), g, b::add);
            }
        }
        List<Value> outputs = new ArrayList<>(f.outputs());
        for (int i : wrt) {
            Value in = f.inputs().get(i);
            Value g = adjoint.get(in.id());
            outputs.add(g != null ? g : b.fill(0.0, in.type()));
        }
        return new Graph(f.inputs(), b.nodes(), outputs);
    }

    /** Floating values that depend on a {@code wrt} input: only these need adjoints. */
    private static Set<Integer> activeValues(Graph f, List<Integer> wrt) {
        Set<Integer> active = new HashSet<>();
        for (int i : wrt) {
            Value v = f.inputs().get(i);
            if (!v.type().dtype().isFloating()) throw new IllegalArgumentException("cannot differentiate with respect to " + v.type() + " input " + i);
            active.add(v.id());
        }
        for (Node n : f.nodes()) {
            if (n.inputs().stream().anyMatch(v -> active.contains(v.id()))) {
                for (Value o : n.outputs()) if (o.type().dtype().isFloating()) active.add(o.id());
            }
        }
        return active;
    }
}
