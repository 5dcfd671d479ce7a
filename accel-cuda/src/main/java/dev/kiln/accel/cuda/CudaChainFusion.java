package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.fusion.GraphIndex;
import dev.kiln.spi.fusion.Rewriter;
import dev.kiln.spi.fusion.Rule;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Grows elementwise chains to a fixed point: a chain (or an elementwise node) absorbs a producer
 * of one of its inputs when that producer is elementwise, has the chain's output shape and feeds
 * only the chain, and inlines scalar constants. Bodies compose as text: the producer's body runs
 * first into a fresh register {@code tN}, which replaces the consumed input in the consumer's body.
 */
final class CudaChainFusion {
    private static final Pattern INPUT = Pattern.compile("\\ba(\\d+)\\b");
    private static final Pattern RESULT = Pattern.compile("\\br0\\b");
    private static final Pattern SCALAR = Pattern.compile("\\bs0\\b");

    private CudaChainFusion() {}

    static Graph fuse(Graph g) {
        AtomicInteger temps = new AtomicInteger();
        return Rewriter.rewrite(g, List.of((cx, n) -> merge(cx, n, temps)));
    }

    /** A node as a chain body over its own inputs, or null when it cannot join a chain. */
    private static CudaChain piece(Node n) {
        if (n.op() instanceof CudaChain c) return c;
        if (n.outputs().size() != 1 || n.output().type().shape().size() == 0) return null;
        TensorType out = n.output().type();
        List<DType> in = n.inputs().stream().map(v -> v.type().dtype()).toList();
        MapKernel k = switch (n.op()) {
            case Primitive.Unary u -> ElementwiseOps.unary(u.fn(), out.dtype());
            case Primitive.Binary b -> ElementwiseOps.binary(b.fn(), in.getFirst());
            case Primitive.Where w -> ElementwiseOps.where(out.dtype());
            case Primitive.Cast c -> in.getFirst() == c.to() ? null : ElementwiseOps.cast(in.getFirst(), c.to());
            default -> null;
        };
        return k == null ? null : new CudaChain(k.body(), in, out);
    }

    private static Rule.Rewrite merge(Rule.Context cx, Node n, AtomicInteger temps) {
        CudaChain self = piece(n);
        if (self == null) return null;
        GraphIndex g = cx.index();
        TensorType out = self.out();
        for (int k = 0; k < n.inputs().size(); k++) {
            Value v = n.inputs().get(k);
            Node p = g.producer(v);
            if (p == null || !g.onlyFeeds(v, n)) continue;
            String inlined = null;
            CudaChain producer = null;
            if (p.op() instanceof Primitive.Fill f && v.type().shape().size() == 1 && Double.isFinite(f.value())) {
                inlined = SCALAR.matcher(ElementwiseOps.fill(v.type().dtype()).body()).replaceAll(Matcher.quoteReplacement("(" + Double.toString(f.value()) + ")"));
            } else if (v.type().shape().equals(out.shape())) {
                producer = piece(p);
                if (producer == null) continue;
            } else {
                continue;
            }
            // The merged chain's inputs: the consumer's, minus the absorbed one, then the producer's new ones.
            List<Value> inputs = new ArrayList<>();
            int[] consumerMap = new int[n.inputs().size()];
            for (int i = 0; i < n.inputs().size(); i++) consumerMap[i] = i == k ? -1 : indexOf(inputs, n.inputs().get(i));
            String first;
            if (producer != null) {
                int[] producerMap = new int[p.inputs().size()];
                for (int i = 0; i < p.inputs().size(); i++) producerMap[i] = indexOf(inputs, p.inputs().get(i));
                first = renameInputs(producer.body(), producerMap, null);
            } else {
                first = inlined;
            }
            String t = "t" + temps.incrementAndGet();
            String producerPart = RESULT.matcher(first).replaceAll(t);
            String consumerPart = renameInputs(self.body(), consumerMap, t);
            String body = CudaTypes.compute(v.type().dtype()) + " " + t + ";\n{\n" + producerPart.indent(2) + "}\n{\n" + consumerPart.indent(2) + "}";
            List<DType> dtypes = inputs.stream().map(x -> x.type().dtype()).toList();
            CudaChain merged = new CudaChain(body, dtypes, out);
            return new Rule.Rewrite(List.of(p, n), List.of(new Node(merged, inputs, n.outputs())));
        }
        return null;
    }

    /** {@code aI} becomes {@code a<map[I]>}, or {@code temp} where map[I] is -1; done in one pass so names never collide. */
    private static String renameInputs(String body, int[] map, String temp) {
        Matcher m = INPUT.matcher(body);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            int i = Integer.parseInt(m.group(1));
            m.appendReplacement(sb, Matcher.quoteReplacement(map[i] < 0 ? temp : "a" + map[i]));
        }
        return m.appendTail(sb).toString();
    }

    private static int indexOf(List<Value> list, Value v) {
        int i = list.indexOf(v);
        if (i >= 0) return i;
        list.add(v);
        return list.size() - 1;
    }
}
