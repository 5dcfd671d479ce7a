package dev.kiln.api.nn;

import dev.kiln.api.Tensor;

/**
 * A multi-layer GRU as PyTorch's {@code nn.GRU}: gates in PyTorch's order (reset, update, new),
 * {@code n = tanh(x W_in + b_in + r (h W_hn + b_hn))}, {@code h' = (1 - z) n + z h}; parameters
 * named and shaped as its state dict. Unidirectional, no dropout between layers.
 */
public final class GRU extends Recurrent {
    /** {@code nn.GRU(input, hidden)}: one layer, input {@code [seq, batch, input]}. */
    public GRU(int input, int hidden) { this(input, hidden, 1, false); }

    /** {@code nn.GRU(input, hidden, num_layers=layers, batch_first=batchFirst)}. */
    public GRU(int input, int hidden, int layers, boolean batchFirst) { super(input, hidden, layers, batchFirst, 3); }

    /** From the initial state {@code h0}, {@code [layers, batch, hidden]}. */
    public Result forward(Tensor x, Tensor h0) {
        java.util.Objects.requireNonNull(h0, "h0");
        return run(x, h0, null);
    }

    @Override Result run(Tensor x, Tensor h0, Tensor c0) { return unroll(x, h0, null, false); }

    @Override Tensor[] step(int k, Tensor xProj, Tensor h, Tensor c) {
        Tensor hp = hiddenProjection(k, h);
        Tensor r = gate(xProj, 0).add(gate(hp, 0)).sigmoid(), z = gate(xProj, 1).add(gate(hp, 1)).sigmoid();
        Tensor n = gate(xProj, 2).add(r.mul(gate(hp, 2))).tanh();
        return new Tensor[] {z.neg().add(1).mul(n).add(z.mul(h)), null};
    }
}
