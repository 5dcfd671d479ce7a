package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import java.util.List;

/**
 * Multi-head self-attention over x[batch, time, dim], as PyTorch's {@code MultiHeadAttention}
 * with {@code batch_first=True}: query, key and value projections, scaled dot-product attention per
 * head ({@code softmax(q k^T / sqrt(d)) v}), optionally causal (position t sees positions up to t),
 * then an output projection. The attention itself is one {@code Composite.Attention} op, which a
 * plugin may run fused and which otherwise decomposes into batched matmuls and a softmax.
 */
public final class MultiHeadAttention extends Module {
    private final int dim, heads, headDim;
    private final boolean causal;
    private final Linear query, key, value, output;

    public MultiHeadAttention(int dim, int heads, boolean causal) {
        if (dim <= 0 || heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("MultiHeadAttention needs dim divisible by heads, got dim " + dim + ", heads " + heads);
        }
        this.dim = dim;
        this.heads = heads;
        this.headDim = dim / heads;
        this.causal = causal;
        try {
            this.query = new Linear(dim, dim);
            this.key = new Linear(dim, dim);
            this.value = new Linear(dim, dim);
            this.output = new Linear(dim, dim);
        } catch (IllegalArgumentException e) { // a projection too large: say whose
            throw new IllegalArgumentException(this + ": " + e.getMessage(), e);
        }
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 3 || s.dim(2) != dim) {
            throw new IllegalArgumentException(describe() + ": expected input of shape [batch, time, " + dim + "] but got " + s);
        }
        int b = s.dim(0), t = s.dim(1);
        Tensor flat = x.reshape(b * t, dim);
        Tensor q = heads(query.forward(flat), b, t), k = heads(key.forward(flat), b, t), v = heads(value.forward(flat), b, t);
        Tensor o = Tensor.apply1(new Composite.Attention(causal, 1 / Math.sqrt(headDim)), q, k, v);
        o = o.reshape(b, heads, t, headDim).permute(0, 2, 1, 3).reshape(b * t, dim);
        return output.forward(o).reshape(b, t, dim);
    }

    /** [b*t, dim] to one [t, headDim] matrix per (batch, head): [b*heads, t, headDim]. */
    private Tensor heads(Tensor y, int b, int t) {
        return y.reshape(b, t, heads, headDim).permute(0, 2, 1, 3).reshape(b * heads, t, headDim);
    }

    public boolean isCausal() { return causal; }

    @Override public List<Module> children() { return List.of(query, key, value, output); }

    @Override public String toString() { return "MultiHeadAttention(" + dim + ", " + heads + " heads" + (causal ? ", causal" : "") + ")"; }
}
