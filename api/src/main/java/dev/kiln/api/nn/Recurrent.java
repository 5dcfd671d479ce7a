package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link LSTM} and {@link GRU} share: PyTorch's parameters ({@code weight_ih_l<k>} [gates*H, in],
 * {@code weight_hh_l<k>} [gates*H, H], {@code bias_ih_l<k>}, {@code bias_hh_l<k>}, all uniform in
 * +-1/sqrt(H)), its input layouts ({@code [seq, batch, in]}, or {@code [batch, seq, in]} when
 * batch-first), and the unrolled loop: each layer projects the whole input sequence in one matrix
 * product and then steps through time with one {@code [batch, H] x [H, gates*H]} product per step,
 * so a compiled step is one graph however long the sequence.
 */
public abstract sealed class Recurrent extends Module permits LSTM, GRU {
    /** The output sequence and the last step's state of every layer, {@code [layers, batch, H]} each. */
    public record Result(Tensor output, Tensor hidden, Tensor cell) {}

    final int input, hidden, layers, gates;
    final boolean batchFirst;
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();

    Recurrent(int input, int hidden, int layers, boolean batchFirst, int gates) {
        if (input < 1 || hidden < 1 || layers < 1) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " needs positive sizes, got input " + input + ", hidden " + hidden + ", layers " + layers);
        }
        this.input = input;
        this.hidden = hidden;
        this.layers = layers;
        this.batchFirst = batchFirst;
        this.gates = gates;
        Parameter.Initializer init = Parameter.Initializer.uniform(1 / Math.sqrt(hidden));
        for (int k = 0; k < layers; k++) {
            int in = k == 0 ? input : hidden;
            parameters.put("weight_ih_l" + k, Parameter.of(toString(), "weight_ih_l" + k, init, gates * hidden, in));
            parameters.put("weight_hh_l" + k, Parameter.of(toString(), "weight_hh_l" + k, init, gates * hidden, hidden));
            parameters.put("bias_ih_l" + k, Parameter.of(toString(), "bias_ih_l" + k, init, gates * hidden));
            parameters.put("bias_hh_l" + k, Parameter.of(toString(), "bias_hh_l" + k, init, gates * hidden));
        }
    }

    /** The output sequence, {@code [seq, batch, H]} (or {@code [batch, seq, H]}), from zero initial state. */
    @Override public Tensor forward(Tensor x) { return run(x, null, null).output(); }

    /** The output and the final state from zero initial state. */
    public Result forwardWithState(Tensor x) { return run(x, null, null); }

    abstract Result run(Tensor x, Tensor h0, Tensor c0);

    /** One step of layer {@code k}'s cell: {@code xProj} is {@code x_t W_ih^T + b_ih}; returns {h, c} (c null for a GRU). */
    abstract Tensor[] step(int k, Tensor xProj, Tensor h, Tensor c);

    /** The loop shared by both cells: layer by layer, step by step. */
    final Result unroll(Tensor x, Tensor h0, Tensor c0, boolean hasCell) {
        Shape s = x.shape();
        if (s.rank() != 3 || s.dim(2) != input) {
            throw new IllegalArgumentException(describe() + ": expected input of shape " + (batchFirst ? "[batch, seq, " : "[seq, batch, ") + input + "] but got " + s);
        }
        Tensor seqFirst = batchFirst ? x.permute(1, 0, 2) : x;
        int steps = seqFirst.shape().dim(0), batch = seqFirst.shape().dim(1);
        if (steps < 1) throw new IllegalArgumentException(describe() + ": the sequence is empty: " + s);
        checkState("initial hidden state", h0, batch);
        checkState("initial cell state", c0, batch);
        Tensor layerInput = seqFirst;
        List<Tensor> lastH = new ArrayList<>(), lastC = new ArrayList<>();
        for (int k = 0; k < layers; k++) {
            int in = k == 0 ? input : hidden;
            // All steps' input projections in one product: [steps * batch, in] x [in, gates * H].
            Tensor proj = layerInput.reshape(steps * batch, in).linear(param(x.kiln(), "weight_ih_l" + k), param(x.kiln(), "bias_ih_l" + k), Composite.Activation.NONE)
                    .reshape(steps, batch, gates * hidden);
            Tensor h = h0 != null ? h0.slice(0, k, k + 1).reshape(batch, hidden) : x.scalarLike(0).broadcastTo(batch, hidden);
            Tensor c = !hasCell ? null : c0 != null ? c0.slice(0, k, k + 1).reshape(batch, hidden) : x.scalarLike(0).broadcastTo(batch, hidden);
            Tensor[] outs = new Tensor[steps];
            for (int t = 0; t < steps; t++) {
                Tensor[] hc = step(k, proj.slice(0, t, t + 1).reshape(batch, gates * hidden), h, c);
                h = hc[0];
                c = hc[1];
                outs[t] = h.reshape(1, batch, hidden);
            }
            layerInput = steps == 1 ? outs[0] : Tensor.concat(0, outs);
            lastH.add(h.reshape(1, batch, hidden));
            if (hasCell) lastC.add(c.reshape(1, batch, hidden));
        }
        Tensor output = batchFirst ? layerInput.permute(1, 0, 2) : layerInput;
        return new Result(output, stack(lastH), hasCell ? stack(lastC) : null);
    }

    /** {@code h W_hh^T + b_hh} for layer {@code k}. */
    final Tensor hiddenProjection(int k, Tensor h) {
        return h.linear(param(h.kiln(), "weight_hh_l" + k), param(h.kiln(), "bias_hh_l" + k), Composite.Activation.NONE);
    }

    /** Gate {@code i} of a {@code [batch, gates * H]} pre-activation. */
    final Tensor gate(Tensor z, int i) { return z.slice(1, i * hidden, (i + 1) * hidden); }

    private Tensor param(dev.kiln.api.Kiln kiln, String name) { return parameters.get(name).value(kiln); }

    private static Tensor stack(List<Tensor> parts) {
        return parts.size() == 1 ? parts.getFirst() : Tensor.concat(0, parts.toArray(Tensor[]::new));
    }

    private void checkState(String what, Tensor state, int batch) {
        if (state == null) return;
        Shape want = Shape.of(layers, batch, hidden);
        if (!state.shape().equals(want)) throw new IllegalArgumentException(describe() + ": the " + what + " must be " + want + " but is " + state.shape());
    }

    @Override protected Map<String, Parameter> ownParameters() { return parameters; }

    @Override public LayerConfig config() {
        return LayerConfig.of(getClass().getSimpleName(), "input", input, "hidden", hidden, "layers", layers, "batch_first", batchFirst);
    }

    @Override public String toString() {
        return getClass().getSimpleName() + "(" + input + " -> " + hidden + (layers > 1 ? ", " + layers + " layers" : "") + (batchFirst ? ", batch first" : "") + ")";
    }
}
