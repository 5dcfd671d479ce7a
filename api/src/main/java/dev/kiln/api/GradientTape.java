package dev.kiln.api;

import dev.kiln.runtime.autodiff.Autodiff;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 *
 * <p><b>What the tape keeps.</b> {@link #gradient} recomputes the recorded ops from the tensors
 * they read but did not compute on this tape (inputs, parameters, BatchNorm's running
 * statistics), so the tape pins those tensors' data from the moment it records them until it is
 * closed. Closing or replacing such a tensor meanwhile is therefore safe, and common: a training
 * BatchNorm2d replaces its running statistics during {@code forward}, and an optimizer step
 * replaces parameters. The data is freed when the tape closes (or, for a tensor still open,
 * when that closes too). Take gradients before closing the tape, inside its {@code try} block.
 */
public final class GradientTape implements AutoCloseable {
    private record Entry(Op op, List<Tensor> inputs, List<Tensor> outputs) {}

    private final Kiln kiln;
    private final List<Entry> entries = new ArrayList<>();
    /** Tensors an op on this tape computed: the gradient graph recomputes them, so they need not stay open. */
    private final Set<Tensor> computed = Collections.newSetFromMap(new IdentityHashMap<>());
    /** The data of every other tensor a recorded op read, pinned until close: the leaves {@link #gradient} starts from. */
    private final Map<Tensor, Tensor.Held> pinned = new IdentityHashMap<>();
    private boolean closed;

    GradientTape(Kiln kiln) { this.kiln = kiln; }

    /**
     * Pins the inputs of an op about to run, so that once it has run it can be recorded: an input
     * closed on another thread fails the op here, as it would without a tape, not the gradient later.
     */
    void pin(List<Tensor> in) {
        if (closed) return;
        for (Tensor t : in) if (!computed.contains(t) && !pinned.containsKey(t)) pinned.put(t, t.hold());
    }

    /** Records an op that ran on inputs {@link #pin}ned first. */
    void record(Op op, List<Tensor> in, List<Tensor> out) {
        if (closed) return;
        computed.addAll(out);
        entries.add(new Entry(op, List.copyOf(in), List.copyOf(out)));
    }

    /**
     * d target / d source for each source; target must be a floating scalar computed on this tape.
     *
     * @throws IllegalStateException after {@link #close()}, which freed what the tape recorded
     */
    public List<Tensor> gradient(Tensor target, List<Tensor> sources) { return gradient(target, sources, null); }

    /**
     * The vector-Jacobian product {@code upstream^T d target / d source} for each source, PyTorch's
     * {@code torch.autograd.grad(target, sources, grad_outputs=upstream)}: {@code target} may have
     * any shape, and {@code upstream}, its cotangent, has the same shape and dtype (null: target is
     * a scalar and its cotangent 1).
     */
    public List<Tensor> gradient(Tensor target, List<Tensor> sources, Tensor upstream) {
        if (closed) throw new IllegalStateException("gradient: this GradientTape is closed, and with it the data it recorded; take gradients inside its try block");
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
        if (upstream == null && target.shape().rank() != 0)
            throw new IllegalArgumentException("gradient: the target is " + target.shape() + ", not a scalar; pass its upstream gradient (of that shape) too");
        if (upstream != null) {
            if (!upstream.shape().equals(target.shape()) || upstream.dtype() != target.dtype())
                throw new IllegalArgumentException("gradient: the upstream gradient is " + upstream.dtype() + upstream.shape() + " but the target is "
                        + target.dtype() + target.shape() + "; they must match");
            // d/dx sum(target * upstream) is upstream's vector-Jacobian product; upstream is a constant leaf, not a source.
            Value u = leaf(b, values, leaves, upstream);
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < target.shape().rank(); i++) all.add(i);
            y = all.isEmpty() ? b.mul(y, u) : b.sum(b.mul(y, u), all, false);
        }
        List<Integer> wrt = new ArrayList<>();
        for (Tensor s : sources) wrt.add(leaves.indexOf(s));
        Graph grads = Autodiff.gradients(b.build(List.of(y)), wrt);
        List<Buffer> out = run(grads, leaves);
        out.getFirst().close();
        List<Tensor> result = new ArrayList<>();
        for (int i = 1; i < out.size(); i++) result.add(Tensor.wrap(kiln, out.get(i)));
        return result;
    }

    /** Runs {@code g} on the leaves' data: pinned by the tape, or (a source no recorded op read) pinned for the call. */
    private List<Buffer> run(Graph g, List<Tensor> leaves) {
        List<Tensor.Held> forCall = new ArrayList<>();
        try {
            List<Buffer> in = new ArrayList<>(leaves.size());
            for (Tensor t : leaves) {
                Tensor.Held h = pinned.get(t);
                if (h == null) {
                    h = t.hold();
                    forCall.add(h);
                }
                in.add(h.buffer);
            }
            return kiln.runPinned(g, in);
        } finally {
            for (Tensor.Held h : forCall) h.close();
        }
    }

    private static Value leaf(Graph.Builder b, Map<Tensor, Value> values, List<Tensor> leaves, Tensor t) {
        for (Tensor l : leaves) if (l == t) return values.get(t);
        Value v = b.input(t.type());
        values.put(t, v);
        leaves.add(t);
        return v;
    }

    /** Stops recording and frees what the tape pinned. Idempotent. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        kiln.tapeClosed(this);
        for (Tensor.Held h : pinned.values()) h.close();
        pinned.clear();
        computed.clear();
        entries.clear();
    }
}
