package dev.kiln.tck.internal;

import static dev.kiln.tck.internal.Names.shape;
import static dev.kiln.tck.internal.PrimitiveCases.t;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.TensorType;
import java.util.List;

/** Cases for batch and layer normalisation, in both batch-norm modes, with scale and shift off one and zero. */
public final class NormCases {
    private NormCases() {}

    private static final Sampler UNIFORM = Sampler.uniform(-2, 2);
    private static final Sampler SCALE = Sampler.uniform(0.5, 1.5);
    private static final Sampler VARIANCE = Sampler.uniform(0.5, 2);

    public static void composites(List<OpCase> c, DType f) {
        int[][] batch = {{4, 3, 5, 5}, {8, 5}, {2, 1, 3, 3}, {3, 2, 7}};
        for (int[] d : batch) {
            TensorType x = t(f, d), stat = t(f, d[1]);
            int count = (int) (x.shape().size() / d[1]);
            for (boolean training : new boolean[] {true, false}) {
                Composite.BatchNorm op = new Composite.BatchNorm(training, 0.1, 1e-5);
                String name = "batchnorm " + (training ? "train " : "eval ") + shape(x);
                c.add(new OpCase("batchnorm", name, op, List.of(x, stat, stat, stat, stat),
                        List.of(UNIFORM, SCALE, UNIFORM, UNIFORM, VARIANCE), List.of(0, 1, 2), count));
            }
            c.add(new OpCase("batchnormgrad", "batchnormgrad " + shape(x), new Composite.BatchNormGrad(1e-5), List.of(x, stat, x),
                    List.of(UNIFORM, SCALE, UNIFORM), CompositeCases.NOT_DIFFERENTIATED, (int) x.shape().size()));
        }
        Object[][] layer = {{new int[] {4, 7}, 1}, {new int[] {2, 3, 5}, 2}, {new int[] {3, 33}, 1}, {new int[] {2, 3, 4}, 1}};
        for (Object[] l : layer) {
            int[] d = (int[]) l[0];
            int axes = (Integer) l[1];
            TensorType x = t(f, d), p = t(f, java.util.Arrays.copyOfRange(d, d.length - axes, d.length));
            int count = (int) p.shape().size();
            c.add(new OpCase("layernorm", "layernorm " + shape(x) + " over " + axes, new Composite.LayerNorm(axes, 1e-5),
                    List.of(x, p, p), List.of(UNIFORM, SCALE, UNIFORM), List.of(0, 1, 2), count));
            c.add(new OpCase("layernormgrad", "layernormgrad " + shape(x) + " over " + axes, new Composite.LayerNormGrad(axes, 1e-5),
                    List.of(x, p, x), List.of(UNIFORM, SCALE, UNIFORM), CompositeCases.NOT_DIFFERENTIATED, (int) x.shape().size()));
        }
    }
}
