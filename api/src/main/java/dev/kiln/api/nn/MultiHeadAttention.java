package dev.kiln.api.nn;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Multi-head self-attention over x[batch, time, dim], as PyTorch's {@code MultiHeadAttention}
 * with {@code batch_first=True}: query, key and value projections, scaled dot-product attention per
 * head ({@code softmax(q k^T / sqrt(d)) v}), optionally causal (position t sees positions up to t),
 * then an output projection. Built from batched matmuls, softmax, reshapes and permutes, so it
 * differentiates and compiles like any other layer.
 */
public final class MultiHeadAttention extends Module {
    /** Added to masked scores: large enough that exp underflows to 0, finite so no NaN appears. */
    private static final float MASKED = -1e9f;

    private final int dim, heads, headDim;
    private final boolean causal;
    private final Linear query, key, value, output;
    private final Map<Integer, Tensor> masks = new HashMap<>();
    private Kiln maskKiln;

    public MultiHeadAttention(int dim, int heads, boolean causal) {
        if (dim <= 0 || heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("MultiHeadAttention needs dim divisible by heads, got dim " + dim + ", heads " + heads);
        }
        this.dim = dim;
        this.heads = heads;
        this.headDim = dim / heads;
        this.causal = causal;
        this.query = new Linear(dim, dim);
        this.key = new Linear(dim, dim);
        this.value = new Linear(dim, dim);
        this.output = new Linear(dim, dim);
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 3 || s.dim(2) != dim) {
            throw new IllegalArgumentException(describe() + ": expected input of shape [batch, time, " + dim + "] but got " + s);
        }
        int b = s.dim(0), t = s.dim(1);
        Tensor flat = x.reshape(b * t, dim);
        Tensor q = heads(query.forward(flat), b, t), k = heads(key.forward(flat), b, t), v = heads(value.forward(flat), b, t);
        Tensor scores = Tensor.apply1(new Primitive.MatMul(false, true), q, k).mul(1 / Math.sqrt(headDim));
        if (causal) scores = scores.add(mask(x.kiln(), t));
        Tensor o = scores.softmax(2).matmul(v);
        o = o.reshape(b, heads, t, headDim).permute(0, 2, 1, 3).reshape(b * t, dim);
        return output.forward(o).reshape(b, t, dim);
    }

    /** [b*t, dim] to one [t, headDim] matrix per (batch, head): [b*heads, t, headDim]. */
    private Tensor heads(Tensor y, int b, int t) {
        return y.reshape(b, t, heads, headDim).permute(0, 2, 1, 3).reshape(b * heads, t, headDim);
    }

    /** [t, t] with 0 where the key position is not after the query position, else {@link #MASKED}; one per length. */
    private Tensor mask(Kiln kiln, int t) {
        if (maskKiln != kiln) {
            masks.clear();
            maskKiln = kiln;
        }
        return masks.computeIfAbsent(t, n -> {
            float[] m = new float[n * n];
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) m[i * n + j] = MASKED;
            return kiln.tensor(m, n, n);
        });
    }

    public boolean isCausal() { return causal; }

    @Override public List<Module> children() { return List.of(query, key, value, output); }

    @Override public String toString() { return "MultiHeadAttention(" + dim + ", " + heads + " heads" + (causal ? ", causal" : "") + ")"; }
}
