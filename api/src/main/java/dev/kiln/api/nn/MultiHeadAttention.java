package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Multi-head self-attention over x[batch, time, dim], as PyTorch's {@code nn.MultiheadAttention}
 * with {@code batch_first=True} called as {@code mha(x, x, x, need_weights=False)}: query, key and
 * value projections, scaled dot-product attention per head ({@code softmax(q k^T / sqrt(d)) v}),
 * optionally causal (position t sees positions up to t, PyTorch's
 * {@code attn_mask=triu(ones(t, t), 1).bool()}), then an output projection. The attention itself
 * is one {@code Composite.Attention} op, which a plugin may run fused and which otherwise
 * decomposes into batched matmuls and a softmax.
 *
 * <p>The parameters are PyTorch's, by name, layout and initialisation, so its state dict loads
 * unchanged: {@code in_proj_weight} [3 dim, dim] (the q, k and v weights stacked in that order,
 * Xavier-uniform), {@code in_proj_bias} [3 dim] (zero), {@code out_proj.weight} [dim, dim] (as a
 * Linear's) and {@code out_proj.bias} [dim] (zero). Head h uses features h*d to (h+1)*d of each.
 */
public final class MultiHeadAttention extends Module {
    private final int dim, heads, headDim;
    private final boolean causal;
    private final Parameter inProjWeight, inProjBias, outProjWeight, outProjBias;

    public MultiHeadAttention(int dim, int heads, boolean causal) {
        if (dim <= 0 || heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("MultiHeadAttention needs dim divisible by heads, got dim " + dim + ", heads " + heads);
        }
        this.dim = dim;
        this.heads = heads;
        this.headDim = dim / heads;
        this.causal = causal;
        String name = toString();
        if (dim > Integer.MAX_VALUE / 3) { // 3 dim rows would not even make a shape
            throw new IllegalArgumentException(name + ": in_proj_weight [3 * " + dim + ", " + dim + "] has more rows than a dimension holds (2^31-1)");
        }
        // PyTorch's xavier_uniform_ over [3 dim, dim]: bound sqrt(6 / (fan_in + fan_out)) with fan_in dim, fan_out 3 dim.
        this.inProjWeight = Parameter.of(name, "in_proj_weight", Parameter.Initializer.uniform(Math.sqrt(6.0 / (4.0 * dim))), 3 * dim, dim);
        this.inProjBias = Parameter.of(name, "in_proj_bias", Parameter.Initializer.constant(0), 3 * dim);
        this.outProjWeight = Parameter.of(name, "out_proj.weight", Parameter.Initializer.uniform(1 / Math.sqrt(dim)), dim, dim);
        this.outProjBias = Parameter.of(name, "out_proj.bias", Parameter.Initializer.constant(0), dim);
    }

    @Override public Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 3 || s.dim(2) != dim) {
            throw new IllegalArgumentException(describe() + ": expected input of shape [batch, time, " + dim + "] but got " + s);
        }
        int b = s.dim(0), t = s.dim(1);
        var k = x.kiln();
        // One matmul for q, k and v together, as PyTorch's packed in_proj does; then each is a third of the columns.
        Tensor qkv = x.reshape(b * t, dim).linear(inProjWeight.value(k), inProjBias.value(k), Composite.Activation.NONE);
        Tensor q = heads(qkv.slice(1, 0, dim), b, t), key = heads(qkv.slice(1, dim, 2 * dim), b, t), v = heads(qkv.slice(1, 2 * dim, 3 * dim), b, t);
        return merge(Tensor.apply1(new Composite.Attention(causal, 1 / Math.sqrt(headDim)), q, key, v), b, t);
    }

    /**
     * Attention of {@code query} [batch, t, dim] over {@code key} and {@code value} [batch, s, dim]
     * (cross-attention, or self-attention with all three the same), as PyTorch's
     * {@code forward(query, key, value, key_padding_mask=mask, need_weights=False)}.
     * {@code keyPaddingMask} [batch, s] is bool, true where a key is padding and must get no weight;
     * null for none. A query whose every key is masked attends to all of them equally, where
     * PyTorch gives NaN. With a mask the scores are computed op by op rather than by the fused
     * attention op, which has no mask input.
     */
    public Tensor forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask) {
        Shape qs = query.shape(), ks = key.shape();
        if (qs.rank() != 3 || qs.dim(2) != dim || !ks.equals(value.shape()) || ks.rank() != 3 || ks.dim(2) != dim || ks.dim(0) != qs.dim(0)) {
            throw new IllegalArgumentException(describe() + ": expected query [batch, t, " + dim + "] and key, value [batch, s, " + dim + "] but got "
                    + qs + ", " + ks + ", " + value.shape());
        }
        int b = qs.dim(0), t = qs.dim(1), n = ks.dim(1);
        if (keyPaddingMask != null && (!keyPaddingMask.shape().equals(Shape.of(b, n)) || keyPaddingMask.dtype() != dev.kiln.core.DType.BOOL)) {
            throw new IllegalArgumentException(describe() + ": the key padding mask must be bool [" + b + ", " + n + "] but is "
                    + keyPaddingMask.dtype() + keyPaddingMask.shape());
        }
        var k = query.kiln();
        Tensor w = inProjWeight.value(k), bias = inProjBias.value(k);
        Tensor q = heads(project(query, w, bias, 0), b, t), kk = heads(project(key, w, bias, 1), b, n), v = heads(project(value, w, bias, 2), b, n);
        Tensor o;
        if (keyPaddingMask == null) {
            o = Tensor.apply1(new Composite.Attention(causal, 1 / Math.sqrt(headDim)), q, kk, v);
        } else {
            Tensor scores = q.matmul(kk.transpose()).mul(1 / Math.sqrt(headDim)); // [b*heads, t, n]
            if (causal) scores = scores.add(causalBias(scores, t, n));
            Tensor pad = keyPaddingMask.reshape(b, 1, 1, n).broadcastTo(b, heads, 1, n).reshape(b * heads, 1, n);
            scores = pad.where(scores.scalarLike(Composite.Attention.MASKED).broadcastTo(b * heads, 1, n), scores.scalarLike(0).broadcastTo(b * heads, 1, n)).add(scores);
            o = scores.softmax(2).matmul(v);
        }
        return merge(o, b, t);
    }

    /** Self-attention with a key padding mask. */
    public Tensor forward(Tensor x, Tensor keyPaddingMask) { return forward(x, x, x, keyPaddingMask); }

    /** The third {@code part} (q, k or v) of the packed projection: {@code x W[part]^T + b[part]}, [b*len, dim]. */
    private Tensor project(Tensor x, Tensor w, Tensor bias, int part) {
        int rows = x.shape().dim(0) * x.shape().dim(1);
        return x.reshape(rows, dim).linear(w.slice(0, part * dim, (part + 1) * dim), bias.slice(0, part * dim, (part + 1) * dim), Composite.Activation.NONE);
    }

    /** {@link Composite.Attention#MASKED} above the diagonal (key after query), 0 elsewhere, broadcast over batch and heads. */
    private static Tensor causalBias(Tensor like, int t, int n) {
        float[] grid = new float[t * n];
        for (int i = 0; i < t; i++) for (int j = 0; j < n; j++) grid[i * n + j] = j > i ? (float) Composite.Attention.MASKED : 0f;
        return like.kiln().tensor(grid, 1, t, n).cast(like.dtype());
    }

    /** The heads' outputs [b*heads, t, headDim] side by side again, through the output projection: [b, t, dim]. */
    private Tensor merge(Tensor o, int b, int t) {
        var k = o.kiln();
        Tensor rows = o.reshape(b, heads, t, headDim).permute(0, 2, 1, 3).reshape(b * t, dim);
        return rows.linear(outProjWeight.value(k), outProjBias.value(k), Composite.Activation.NONE).reshape(b, t, dim);
    }

    /** [b*t, dim] to one [t, headDim] matrix per (batch, head): [b*heads, t, headDim]. */
    private Tensor heads(Tensor y, int b, int t) {
        return y.reshape(b, t, heads, headDim).permute(0, 2, 1, 3).reshape(b * heads, t, headDim);
    }

    public boolean isCausal() { return causal; }

    /** PyTorch's names; {@code out_proj.*} are a sub-module's there and plain dotted names here, which is the same state dict. */
    @Override protected Map<String, Parameter> ownParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("in_proj_weight", inProjWeight);
        m.put("in_proj_bias", inProjBias);
        m.put("out_proj.weight", outProjWeight);
        m.put("out_proj.bias", outProjBias);
        return m;
    }

    @Override public LayerConfig config() { return LayerConfig.of("MultiHeadAttention", "dim", dim, "heads", heads, "causal", causal); }

    @Override public String toString() { return "MultiHeadAttention(" + dim + ", " + heads + " heads" + (causal ? ", causal" : "") + ")"; }
}
