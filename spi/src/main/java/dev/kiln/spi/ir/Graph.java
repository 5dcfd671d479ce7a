package dev.kiln.spi.ir;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A computation: typed SSA values, nodes in topological order, inputs and outputs. Immutable. */
public record Graph(List<Value> inputs, List<Node> nodes, List<Value> outputs) {
    public Graph {
        inputs = List.copyOf(inputs);
        nodes = List.copyOf(nodes);
        outputs = List.copyOf(outputs);
    }

    public static Builder builder() { return new Builder(0); }

    /**
     * A canonical text of the graph with values renumbered in order of appearance: two graphs
     * with equal signatures compute the same thing, so compiled code can be cached by it.
     */
    public String signature() {
        Map<Integer, Integer> ids = new HashMap<>();
        StringBuilder sb = new StringBuilder("in");
        for (Value v : inputs) sb.append(' ').append(canonical(ids, v));
        for (Node n : nodes) {
            sb.append(';').append(n.op()).append('(');
            for (Value v : n.inputs()) sb.append(canonical(ids, v)).append(',');
            sb.append(")->");
            for (Value v : n.outputs()) sb.append(canonical(ids, v)).append(',');
        }
        sb.append(";out");
        for (Value v : outputs) sb.append(' ').append(canonical(ids, v));
        return sb.toString();
    }

    private static String canonical(Map<Integer, Integer> ids, Value v) {
        return ids.computeIfAbsent(v.id(), k -> ids.size()) + ":" + v.type();
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("graph(").append(inputs).append(") {\n");
        for (Node n : nodes) sb.append("  ").append(n).append('\n');
        return sb.append("  return ").append(outputs).append("\n}").toString();
    }

    /**
     * Builds a graph node by node, inferring output types as it goes. The emitters are the
     * vocabulary decompositions and autodiff rules are written in.
     */
    public static final class Builder {
        private final List<Value> inputs = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private int nextId;

        /** Starts numbering values at {@code firstId}, so values of a graph being rewritten keep their ids. */
        public Builder(int firstId) { this.nextId = firstId; }

        /** A builder that continues {@code g}: same inputs and nodes, fresh ids after its values. */
        public static Builder from(Graph g) {
            Builder b = new Builder(Lowering.maxId(g) + 1);
            b.inputs.addAll(g.inputs());
            b.nodes.addAll(g.nodes());
            return b;
        }

        public Value input(TensorType type) {
            Value v = newValue(type);
            inputs.add(v);
            return v;
        }

        public Value newValue(TensorType type) { return new Value(nextId++, type); }

        /** Appends a node whose outputs are given (used by passes that keep value identities). */
        public void add(Node node) { nodes.add(node); }

        public List<Value> apply(Op op, List<Value> in) {
            List<TensorType> types = new ArrayList<>(in.size());
            for (Value v : in) types.add(v.type());
            List<TensorType> outTypes = op.infer(types);
            List<Value> out = new ArrayList<>(outTypes.size());
            for (TensorType t : outTypes) out.add(newValue(t));
            nodes.add(new Node(op, in, out));
            return out;
        }

        public Value apply1(Op op, Value... in) { return apply(op, List.of(in)).getFirst(); }

        public Graph build(List<Value> outputs) { return new Graph(inputs, nodes, outputs); }

        public List<Node> nodes() { return nodes; }

        public int nextId() { return nextId; }

        /** Skips ids below {@code next}, which a nested builder has used. */
        public void advanceTo(int next) { nextId = Math.max(nextId, next); }

        // ---- emitters ----

        public Value unary(UnaryFn fn, Value x) { return apply1(new Primitive.Unary(fn), x); }

        public Value binary(BinaryFn fn, Value a, Value b) { return apply1(new Primitive.Binary(fn), a, b); }

        public Value add(Value a, Value b) { return binary(BinaryFn.ADD, a, b); }

        public Value sub(Value a, Value b) { return binary(BinaryFn.SUB, a, b); }

        public Value mul(Value a, Value b) { return binary(BinaryFn.MUL, a, b); }

        public Value div(Value a, Value b) { return binary(BinaryFn.DIV, a, b); }

        public Value neg(Value x) { return unary(UnaryFn.NEG, x); }

        /** A scalar constant of {@code like}'s dtype, broadcast by the op that consumes it. */
        public Value scalar(double value, Value like) { return fill(value, new TensorType(like.type().dtype(), Shape.scalar())); }

        public Value fill(double value, TensorType type) { return apply1(new Primitive.Fill(value, type)); }

        public Value cast(Value x, DType to) { return x.type().dtype() == to ? x : apply1(new Primitive.Cast(to), x); }

        public Value where(Value cond, Value a, Value b) { return apply1(new Primitive.Where(), cond, a, b); }

        public Value sum(Value x, List<Integer> axes, boolean keepDims) {
            return apply1(new Primitive.Reduce(Primitive.ReduceFn.SUM, axes, keepDims), x);
        }

        public Value max(Value x, List<Integer> axes, boolean keepDims) {
            return apply1(new Primitive.Reduce(Primitive.ReduceFn.MAX, axes, keepDims), x);
        }

        public Value matmul(Value a, Value b, boolean transA, boolean transB) { return apply1(new Primitive.MatMul(transA, transB), a, b); }

        public Value reshape(Value x, Shape s) { return x.type().shape().equals(s) ? x : apply1(new Primitive.Reshape(s), x); }

        public Value broadcast(Value x, Shape s) { return x.type().shape().equals(s) ? x : apply1(new Primitive.Broadcast(s), x); }

        /** Sums {@code g} down to {@code target}: the adjoint of broadcasting. */
        public Value sumTo(Value g, Shape target) {
            Shape s = g.type().shape();
            if (s.equals(target)) return g;
            int off = s.rank() - target.rank();
            List<Integer> axes = new ArrayList<>();
            for (int i = 0; i < s.rank(); i++) if (i < off || target.dim(i - off) == 1) axes.add(i);
            Value r = sum(g, axes, true);
            return reshape(r, target);
        }
    }
}
