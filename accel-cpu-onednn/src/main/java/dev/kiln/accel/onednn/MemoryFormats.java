package dev.kiln.accel.onednn;

import dev.kiln.spi.fusion.GraphIndex;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The last pass of the plugin's fusion: decides the {@link MemoryFormat} of every value, so that
 * consecutive convolutions, poolings and batch norms hand each other blocked memory and a reorder
 * runs only where a value crosses to a kernel that reads plain memory (and at the graph's outputs).
 *
 * <p>Nodes fall in three kinds. Kernels of {@link #activations} (convolution, pooling, batch norm)
 * take any format: their activations are blocked wherever {@link MemoryFormat#blockable}, and the
 * node becomes {@link FusedOps.Formatted}. Elementwise nodes over operands of one shape do not
 * care: a permutation of all operands alike permutes the result alike, so they run on blocked
 * inputs and give a blocked output when all their inputs are blocked. Every other node reads plain memory. A value is converted at
 * most once per format ({@link FusedOps.Reformat}), whatever its number of readers.
 */
final class MemoryFormats {
    private final Map<Integer, MemoryFormat> format = new HashMap<>();
    /** Converted copies: value id and target format to the copy. */
    private final Map<List<Object>, Value> copies = new HashMap<>();
    private final Set<Integer> graphOutputs = new HashSet<>();
    private final List<Node> nodes = new ArrayList<>();
    private final GraphIndex index;
    private int nextId;

    private MemoryFormats(Graph g) {
        index = new GraphIndex(g);
        nextId = Lowering.maxId(g) + 1;
        for (Value v : g.outputs()) graphOutputs.add(v.id());
    }

    /** {@code g} with formats placed; {@code g} itself when this CPU blocks nothing or no value is blockable. */
    static Graph place(Graph g) {
        if (MemoryFormat.BLOCK == 0) return g;
        MemoryFormats pass = new MemoryFormats(g);
        boolean any = false;
        for (Node n : g.nodes()) any |= pass.add(n);
        return any ? new Graph(g.inputs(), pass.nodes, g.outputs()) : g;
    }

    /** Appends {@code n} (or its formatted form) after the conversions of its inputs; whether anything is blocked. */
    private boolean add(Node n) {
        int[] act = activations(n.op());
        if (act != null) return addFormatted(n, act);
        if (elementwise(n)) return addElementwise(n);
        List<Value> in = new ArrayList<>();
        for (Value v : n.inputs()) in.add(as(v, MemoryFormat.PLAIN));
        nodes.add(new Node(n.op(), in, n.outputs()));
        return false;
    }

    private boolean addFormatted(Node n, int[] act) {
        int ins = n.inputs().size();
        List<MemoryFormat> f = new ArrayList<>();
        for (int i = 0; i < ins + n.outputs().size(); i++) f.add(MemoryFormat.PLAIN);
        if (n.op() instanceof Primitive.Conv2d || n.op() instanceof Primitive.Conv2dBackwardData || n.op() instanceof Primitive.Conv2dBackwardWeights
                || n.op() instanceof FusedOps.ConvBias || n.op() instanceof FusedOps.ConvWeightsBias) {
            // A convolution may read one format and write another (the first layer's image is plain, its output blocked).
            for (int i : act) f.set(i, blockable(n, i) ? MemoryFormat.BLOCKED : MemoryFormat.PLAIN);
        } else {
            // Pooling and batch norm read and write one format; a gradient takes its forward's, which its workspace records.
            boolean all = true;
            for (int i : act) all &= blockable(n, i);
            MemoryFormat one = n.op() instanceof FusedOps.MaxPoolGrad ? formatOf(n.inputs().getFirst()) : all ? MemoryFormat.BLOCKED : MemoryFormat.PLAIN;
            for (int i : act) f.set(i, one);
            if (n.op() instanceof FusedOps.MaxPoolTrain) f.set(2, one);
            if (n.op() instanceof FusedOps.MaxPoolGrad) f.set(0, one);
        }
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < ins; i++) in.add(isActivation(act, i) ? as(n.inputs().get(i), f.get(i)) : n.inputs().get(i));
        for (int j = 0; j < n.outputs().size(); j++) format.put(n.outputs().get(j).id(), f.get(ins + j));
        boolean blocked = f.contains(MemoryFormat.BLOCKED);
        nodes.add(new Node(blocked ? new FusedOps.Formatted(n.op(), f) : n.op(), in, n.outputs()));
        return blocked;
    }

    /** Whether operand {@code i} of {@code n} may be blocked: its type allows it, and an output is not a graph output. */
    private boolean blockable(Node n, int i) {
        Value v = operand(n, i);
        return MemoryFormat.blockable(v.type()) && (i < n.inputs().size() || !graphOutputs.contains(v.id()));
    }

    /**
     * Elementwise: blocked when every input is, or when some are and every reader of the result
     * reads it as an activation (so converting the plain inputs saves converting the result);
     * else plain, the blocked inputs converted.
     */
    private boolean addElementwise(Node n) {
        Value out = n.output();
        int blockedInputs = 0;
        for (Value v : n.inputs()) if (formatOf(v) == MemoryFormat.BLOCKED) blockedInputs++;
        boolean blocked = blockable(n, n.inputs().size()) && blockedInputs > 0
                && (blockedInputs == n.inputs().size() || readAsActivation(out));
        MemoryFormat f = blocked ? MemoryFormat.BLOCKED : MemoryFormat.PLAIN;
        List<Value> in = new ArrayList<>();
        for (Value v : n.inputs()) in.add(as(v, f));
        format.put(out.id(), f);
        nodes.add(new Node(n.op(), in, n.outputs()));
        return f == MemoryFormat.BLOCKED;
    }

    /** {@code v} in format {@code f}: itself, or its converted copy (made on first use). */
    private Value as(Value v, MemoryFormat f) {
        MemoryFormat has = formatOf(v);
        if (has == f) return v;
        return copies.computeIfAbsent(List.of(v.id(), f), k -> {
            Value copy = new Value(nextId++, v.type());
            nodes.add(new Node(new FusedOps.Reformat(has, f), List.of(v), List.of(copy)));
            format.put(copy.id(), f);
            return copy;
        });
    }

    /** Whether every reader of {@code v} is a kernel of {@link #activations} reading it as one. */
    private boolean readAsActivation(Value v) {
        List<Node> readers = index.consumers(v);
        for (Node r : readers) {
            int[] act = activations(r.op());
            if (act == null) return false;
            for (int i = 0; i < r.inputs().size(); i++) if (r.inputs().get(i).equals(v) && !isActivation(act, i)) return false;
        }
        return !readers.isEmpty();
    }

    private MemoryFormat formatOf(Value v) { return format.getOrDefault(v.id(), MemoryFormat.PLAIN); }

    private static Value operand(Node n, int i) { return i < n.inputs().size() ? n.inputs().get(i) : n.outputs().get(i - n.inputs().size()); }

    private static boolean isActivation(int[] act, int i) {
        for (int a : act) if (a == i) return true;
        return false;
    }

    /**
     * The operands (inputs first, then outputs) of a kernel that reads and writes activations in
     * any format, or null for every other op. Weights, biases, statistics and workspaces are not
     * activations; the workspaces follow their pooling's format.
     */
    static int[] activations(Op op) {
        return switch (op) {
            case Primitive.Conv2d c -> new int[] {0, 2};
            case Primitive.Conv2dBackwardData c -> new int[] {0, 2};
            case Primitive.Conv2dBackwardWeights c -> new int[] {0, 1};
            case FusedOps.ConvBias c -> new int[] {0, 3};
            case FusedOps.ConvWeightsBias c -> new int[] {0, 1};
            case FusedOps.MaxPoolTrain p -> new int[] {0, 1};
            case FusedOps.MaxPoolGrad p -> new int[] {1, 2};
            case FusedOps.AvgPoolGrad p -> new int[] {0, 1};
            case Composite.MaxPool2d p -> new int[] {0, 1};
            case Composite.AvgPool2d p -> new int[] {0, 1};
            case Composite.BatchNorm b -> new int[] {0, 5};
            case Composite.BatchNormGrad b -> new int[] {0, 2, 3};
            case FusedOps.BatchNormTrain b -> new int[] {0, 5};
            case FusedOps.BatchNormTrainGrad b -> new int[] {0, 4, 5};
            default -> null;
        };
    }

    /** A node whose output element i depends only on its inputs' elements i: all operands have one shape. */
    private static boolean elementwise(Node n) {
        boolean kind = switch (n.op()) {
            case Primitive.Unary u -> true;
            case Primitive.Binary b -> true;
            case Primitive.Where w -> true;
            case Primitive.Cast c -> true;
            case FusedOps.Chain c -> c.sums() == null && c.layouts().stream().allMatch(l -> l == ChainExpr.Layout.DENSE);
            default -> false;
        };
        if (!kind || n.outputs().size() != 1) return false;
        for (Value v : n.inputs()) if (!v.type().shape().equals(n.output().type().shape())) return false;
        return true;
    }
}
