package dev.kiln.api;

import dev.kiln.runtime.autodiff.Autodiff;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records eager ops so gradients can be taken afterwards, as TensorFlow's tape does:
 *
 * <pre>{@code
 * try (GradientTape tape = kiln.tape()) {
 *     Tensor loss = model.forward(x).softmaxCrossEntropy(y);
 *     List<Tensor> grads = tape.gradient(loss, params);
 * }
 * }</pre>
 *
 * The recorded ops become a graph; the runtime differentiates it with the same VJP rules as
 * compiled training, and the gradient graph is compiled once per distinct tape.
 */
public final class GradientTape implements AutoCloseable {
    private record Entry(Op op, List<Tensor> inputs, List<Tensor> outputs) {}

    private final Kiln kiln;
    private final List<Entry> entries = new ArrayList<>();
    private boolean closed;

    GradientTape(Kiln kiln) { this.kiln = kiln; }

    void record(Op op, List<Tensor> in, List<Tensor> out) {
        if (!closed) entries.add(new Entry(op, List.copyOf(in), List.copyOf(out)));
    }

    /** d target / d source for each source; target must be a floating scalar computed on this tape. */
    public List<Tensor> gradient(Tensor target, List<Tensor> sources) {
        Graph.Builder b = Graph.builder();
        Map<Tensor, Value> values = new IdentityHashMap<>();
        List<Tensor> leaves = new ArrayList<>();
        for (Tensor s : sources) leaf(b, values, leaves, s);
        for (Entry e : entries) {
            List<Value> in = new ArrayList<>();
            for (Tensor t : e.inputs()) in.add(values.containsKey(t) ? values.get(t) : leaf(b, values, leaves, t));
            List<Value> out = b.apply(e.op(), in);
            for (int i = 0; i < out.size(); i++) values.put(e.outputs().get(i), out.get(i));
        }
        Value y = values.get(target);
        if (y == null) throw new IllegalArgumentException("gradient: the target was not computed while this tape was recording");
        List<Integer> wrt = new ArrayList<>();
        for (Tensor s : sources) wrt.add(leaves.indexOf(s));
        Graph grads = Autodiff.gradients(b.build(List.of(y)), wrt);
        List<Buffer> out = kiln.run(grads, leaves);
        out.getFirst().close();
        List<Tensor> result = new ArrayList<>();
        for (int i = 1; i < out.size(); i++) result.add(Tensor.wrap(kiln, out.get(i)));
        return result;
    }

    private static Value leaf(Graph.Builder b, Map<Tensor, Value> values, List<Tensor> leaves, Tensor t) {
        for (Tensor l : leaves) if (l == t) return values.get(t);
        Value v = b.input(t.type());
        values.put(t, v);
        leaves.add(t);
        return v;
    }

    @Override public void close() {
        closed = true;
        kiln.tapeClosed(this);
    }
}
