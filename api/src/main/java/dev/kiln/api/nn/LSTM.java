package dev.kiln.api.nn;

import dev.kiln.api.Tensor;

/**
 * A multi-layer LSTM as PyTorch's {@code nn.LSTM}: gates in PyTorch's order (input, forget, cell,
 * output), {@code c' = f c + i g}, {@code h' = o tanh(c')}; parameters named and shaped as its
 * state dict, so PyTorch weights load as they are. Unidirectional, no dropout between layers, no
 * projection.
 */
public final class LSTM extends Recurrent {
    /** {@code nn.LSTM(input, hidden)}: one layer, input {@code [seq, batch, input]}. */
    public LSTM(int input, int hidden) { this(input, hidden, 1, false); }

    /** {@code nn.LSTM(input, hidden, num_layers=layers, batch_first=batchFirst)}. */
    public LSTM(int input, int hidden, int layers, boolean batchFirst) { super(input, hidden, layers, batchFirst, 4); }

    /** From initial states {@code h0} and {@code c0}, each {@code [layers, batch, hidden]}. */
    public Result forward(Tensor x, Tensor h0, Tensor c0) {
        java.util.Objects.requireNonNull(h0, "h0");
        java.util.Objects.requireNonNull(c0, "c0");
        return run(x, h0, c0);
    }

    @Override Result run(Tensor x, Tensor h0, Tensor c0) { return unroll(x, h0, c0, true); }

    @Override Tensor[] step(int k, Tensor xProj, Tensor h, Tensor c) {
        Tensor z = xProj.add(hiddenProjection(k, h));
        Tensor i = gate(z, 0).sigmoid(), f = gate(z, 1).sigmoid(), g = gate(z, 2).tanh(), o = gate(z, 3).sigmoid();
        Tensor cNext = f.mul(c).add(i.mul(g));
        return new Tensor[] {o.mul(cNext.tanh()), cNext};
    }
}
