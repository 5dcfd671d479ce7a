package dev.kiln.tck.internal;

import static dev.kiln.tck.internal.Names.shape;
import static dev.kiln.tck.internal.PrimitiveCases.t;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.TensorType;
import java.util.List;

/** Scaled dot-product attention, causal and not, square and with more keys than queries, and its backward. */
public final class AttentionCases {
    private AttentionCases() {}

    private static final Sampler UNIFORM = Sampler.uniform(-1.5, 1.5);

    public static void composites(List<OpCase> c, DType f) {
        int[][] specs = {{2, 5, 5, 4, 4}, {3, 1, 1, 2, 3}, {2, 3, 6, 4, 3}, {1, 33, 33, 8, 8}};
        for (int[] s : specs) {
            TensorType q = t(f, s[0], s[1], s[3]), k = t(f, s[0], s[2], s[3]), v = t(f, s[0], s[2], s[4]);
            for (boolean causal : new boolean[] {false, true}) {
                Composite.Attention op = new Composite.Attention(causal, 1 / Math.sqrt(s[3]));
                String name = (causal ? "causal " : "") + shape(q) + " " + shape(k) + " " + shape(v);
                c.add(new OpCase("attention", "attention " + name, op, List.of(q, k, v), List.of(UNIFORM, UNIFORM, UNIFORM),
                        List.of(0, 1, 2), s[2] * Math.max(s[3], s[4])));
                TensorType o = op.infer(List.of(q, k, v)).getFirst();
                c.add(new OpCase("attentiongrad", "attentiongrad " + name, new Composite.AttentionGrad(causal, op.scale()), List.of(q, k, v, o),
                        List.of(UNIFORM, UNIFORM, UNIFORM, UNIFORM), CompositeCases.NOT_DIFFERENTIATED, s[1] * s[2] * Math.max(s[3], s[4])));
            }
        }
    }
}
