package dev.kiln.tck.internal;

import static dev.kiln.tck.internal.Names.shape;
import static dev.kiln.tck.internal.PrimitiveCases.t;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Cases for every composite: a native kernel must agree with the decomposition that defines it. */
public final class CompositeCases {
    private CompositeCases() {}

    private static final Sampler UNIFORM = Sampler.uniform(-2, 2);
    /** Optimizer steps run after the backward pass; the runtime's autodiff rightly refuses to differentiate them. */
    static final List<Integer> NOT_DIFFERENTIATED = List.of();

    public static List<OpCase> all(DType f) {
        List<OpCase> c = new ArrayList<>();
        linear(c, f);
        quantizedLinear(c, f);
        softmax(c, f);
        gelu(c, f);
        crossEntropy(c, f);
        sgd(c, f);
        adam(c, f);
        WindowCases.composites(c, f);
        NormCases.composites(c, f);
        AttentionCases.composites(c, f);
        return c;
    }

    private static void linear(List<OpCase> c, DType f) {
        int[][] sizes = {{7, 13, 5}, {1, 3, 1}, {4, 33, 2}};
        for (Activation act : Activation.values()) {
            for (int[] s : sizes) {
                TensorType x = t(f, s[0], s[1]), w = t(f, s[2], s[1]), b = t(f, s[2]);
                String name = "linear " + act.name().toLowerCase(Locale.ROOT) + " " + shape(x) + "x" + shape(w) + "+" + shape(b);
                // relu's kink: z is a sum of 3+ products plus a bias, so an exact zero has probability zero.
                c.add(new OpCase("linear", name, new Composite.Linear(act), List.of(x, w, b), List.of(UNIFORM, UNIFORM, UNIFORM), List.of(0, 1, 2), s[1] + 1));
            }
        }
    }

    /**
     * Int8 linear layers, f32 and f64 only (see {@link Composite.QuantizedLinear#infer}). The
     * activations stay off rounding ties ({@link Sampler#quantizable}), so every plugin quantizes
     * them to the same integers and the integer products sum exactly; what remains is the f32
     * rounding of the dequantization, within the usual forward tolerance. Not differentiable.
     */
    private static void quantizedLinear(List<OpCase> c, DType f) {
        if (f != DType.F32 && f != DType.F64) return;
        int[][] sizes = {{7, 13, 5}, {1, 3, 1}, {4, 33, 2}, {5, 257, 17}};
        for (Activation act : List.of(Activation.NONE, Activation.RELU)) {
            for (int[] s : sizes) {
                TensorType x = t(f, s[0], s[1]), wq = t(DType.I8, s[2], s[1]), ws = t(f, s[2]), b = t(f, s[2]);
                String name = "quantizedlinear " + act.name().toLowerCase(Locale.ROOT) + " " + shape(x) + "xi8" + shape(wq);
                c.add(new OpCase("quantizedlinear", name, new Composite.QuantizedLinear(act), List.of(x, wq, ws, b),
                        List.of(Sampler.quantizable(2), Sampler.integers(-127, 128), Sampler.uniform(0.001, 0.02), UNIFORM), NOT_DIFFERENTIATED, s[1] + 1));
            }
        }
    }

    private static void softmax(List<OpCase> c, DType f) {
        Object[][] specs = {{new int[] {3, 7}, 1}, {new int[] {3, 7}, 0}, {new int[] {2, 3, 5}, 2}, {new int[] {2, 3, 5}, 1}, {new int[] {1, 33}, 1}, {new int[] {5}, 0}};
        for (Object[] s : specs) {
            TensorType x = t(f, (int[]) s[0]);
            int axis = (Integer) s[1];
            int n = x.shape().dim(axis);
            c.add(new OpCase("softmax", "softmax " + shape(x) + " axis " + axis, new Composite.Softmax(axis), List.of(x), List.of(Sampler.uniform(-4, 4)), List.of(0), n));
            c.add(new OpCase("logsoftmax", "logsoftmax " + shape(x) + " axis " + axis, new Composite.LogSoftmax(axis), List.of(x), List.of(Sampler.uniform(-4, 4)), List.of(0), n));
        }
    }

    /** Exact GELU over its whole curve: the tails (|x| up to 6), where erf saturates, and the middle. */
    private static void gelu(List<OpCase> c, DType f) {
        for (int[] s : new int[][] {{3, 7}, {1}, {2, 3, 33}}) {
            TensorType x = t(f, s);
            c.add(new OpCase("gelu erf", "gelu erf " + shape(x), new Composite.Gelu(), List.of(x), List.of(Sampler.uniform(-6, 6)), List.of(0), 1));
        }
    }

    private static void crossEntropy(List<OpCase> c, DType f) {
        Object[][] specs = {{7, 5, DType.I32}, {1, 3, DType.I64}, {4, 33, DType.I32}, {13, 2, DType.I64}};
        for (Object[] s : specs) {
            int n = (Integer) s[0], k = (Integer) s[1];
            TensorType logits = t(f, n, k), labels = t((DType) s[2], n);
            String name = "softmaxcrossentropy " + shape(logits) + " labels " + labels.dtype().label() + shape(labels);
            c.add(new OpCase("softmaxcrossentropy", name, new Composite.SoftmaxCrossEntropy(), List.of(logits, labels),
                    List.of(Sampler.uniform(-4, 4), Sampler.integers(0, k)), List.of(0), n * k));
            c.add(new OpCase("softmaxcrossentropygrad", "softmaxcrossentropygrad " + shape(logits) + " labels " + labels.dtype().label() + shape(labels),
                    new Composite.SoftmaxCrossEntropyGrad(), List.of(logits, labels, t(f)),
                    List.of(Sampler.uniform(-4, 4), Sampler.integers(0, k), Sampler.uniform(0.5, 2)), NOT_DIFFERENTIATED, k));
        }
    }

    private static void sgd(List<OpCase> c, DType f) {
        Object[][] specs = {{0.0, false, 0.0}, {0.9, false, 0.0}, {0.9, true, 0.01}, {0.0, false, 0.01}};
        for (Object[] s : specs) {
            Composite.SgdUpdate op = new Composite.SgdUpdate((Double) s[0], (Boolean) s[1], (Double) s[2]);
            for (int[] d : new int[][] {{7, 13}, {5}}) {
                TensorType p = t(f, d);
                String name = "sgdupdate momentum " + s[0] + (op.nesterov() ? " nesterov" : "") + " decay " + s[2] + " " + shape(p);
                c.add(new OpCase("sgdupdate", name, op, List.of(p, p, p, t(f)),
                        List.of(UNIFORM, UNIFORM, UNIFORM, Sampler.uniform(0.01, 0.5)), NOT_DIFFERENTIATED, 1));
            }
        }
    }

    private static void adam(List<OpCase> c, DType f) {
        Composite.AdamUpdate[] ops = {
            new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0, false),
            new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0.01, false),
            new Composite.AdamUpdate(0.8, 0.99, 1e-6, 0.05, true),
        };
        for (Composite.AdamUpdate op : ops) {
            for (int[] d : new int[][] {{7, 13}, {5}}) {
                TensorType p = t(f, d);
                String name = "adamupdate" + (op.decoupled() ? "w" : "") + " b1 " + op.beta1() + " b2 " + op.beta2() + " decay " + op.weightDecay() + " " + shape(p);
                // v (the second moment) is positive as in training; the step counter is 3.
                c.add(new OpCase("adamupdate", name, op, List.of(p, p, p, p, t(f), t(f)),
                        List.of(UNIFORM, UNIFORM, UNIFORM, Sampler.uniform(0.01, 1), Sampler.uniform(0.001, 0.1), Sampler.constant(3)),
                        NOT_DIFFERENTIATED, 1));
            }
        }
    }
}
