package dev.kiln.tck.internal;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.runtime.autodiff.Autodiff;
import dev.kiln.tck.HostData;
import dev.kiln.tck.Reference;
import dev.kiln.tck.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assertions;

/**
 * The VJP check: {@code f(x) = sum_k sum(op(x)_k * c_k)} with fixed random cotangents {@code c_k}
 * (graph inputs after the op's own), differentiated by the runtime's autodiff, compiled and run
 * on the plugin, and compared with central finite differences of the float64 reference.
 */
public final class GradientCheck {
    private GradientCheck() {}

    /** Relative step of the central differences: truncation error ~1e-12, rounding error ~1e-10 * |f|. */
    static final double EPS = 1e-6;

    /** The scalar function whose gradient is checked. */
    public static Graph loss(OpCase c) {
        Graph.Builder b = Graph.builder();
        List<Value> in = new ArrayList<>();
        for (TensorType t : c.inputs()) in.add(b.input(t));
        List<Value> out = b.apply(c.op(), in);
        Value total = null;
        for (Value o : out) {
            if (!o.type().dtype().isFloating()) continue;
            Value weighted = b.mul(o, b.input(o.type()));
            int rank = o.type().shape().rank();
            // A rank-0 term is already scalar; reducing over no axes would only test an odd corner of autodiff.
            Value term = rank == 0 ? weighted : b.sum(weighted, IntStream.range(0, rank).boxed().toList(), false);
            total = total == null ? term : b.add(total, term);
        }
        if (total == null) throw new IllegalArgumentException(c.name() + " has no floating output to differentiate");
        return b.build(List.of(total));
    }

    /** The graph the check runs on the plugin: the loss and its gradients with respect to the case's {@code wrt} inputs. */
    public static Graph gradients(OpCase c) { return Autodiff.gradients(loss(c), c.wrt()); }

    public static void check(Accelerator acc, CompileOptions options, OpCase c, Tolerance lossTolerance) {
        Graph f = loss(c);
        Random r = new Random(c.seed());
        List<double[]> data = ForwardCheck.inputs(c, r);
        for (int i = c.inputs().size(); i < f.inputs().size(); i++) {
            TensorType t = f.inputs().get(i).type();
            data.add(HostData.roundTrip(Sampler.uniform(-2, 2).draw(r, Math.toIntExact(t.shape().size())), t));
        }
        Graph grad = gradients(c);
        checkSignature(c, f, grad);
        List<double[]> actual = PluginRun.run(acc, options, grad, data);

        double expectedLoss = Reference.run(f, data).getFirst()[0];
        int terms = (int) Math.min(Integer.MAX_VALUE, (long) c.accumulation() * totalOutputSize(c));
        Compare.assertClose(c.name() + ": loss", f.outputs().getFirst().type(), actual.getFirst(), new double[] {expectedLoss}, lossTolerance, terms);

        for (int k = 0; k < c.wrt().size(); k++) {
            int input = c.wrt().get(k);
            double[] numeric = finiteDifference(f, data, input);
            String what = c.name() + ": d loss / d input " + input + " (plugin f32 vs float64 finite differences, seed " + c.seed() + ")";
            Compare.assertClose(what, c.inputs().get(input), actual.get(1 + k), numeric, Tolerance.GRADIENT, 1);
        }
    }

    private static void checkSignature(OpCase c, Graph f, Graph grad) {
        Assertions.assertEquals(1 + c.wrt().size(), grad.outputs().size(), () -> c.name() + ": gradient graph outputs " + grad.outputs());
        Assertions.assertEquals(f.inputs().size(), grad.inputs().size(), () -> c.name() + ": gradient graph must keep f's inputs");
        for (int k = 0; k < c.wrt().size(); k++) {
            TensorType want = c.inputs().get(c.wrt().get(k));
            TensorType got = grad.outputs().get(1 + k).type();
            int index = c.wrt().get(k);
            Assertions.assertEquals(want, got, () -> c.name() + ": gradient for input " + index + " has the wrong type");
        }
    }

    /** Central differences of the reference loss with respect to every element of one input. */
    static double[] finiteDifference(Graph f, List<double[]> data, int input) {
        double[] x = data.get(input);
        double[] g = new double[x.length];
        List<double[]> args = new ArrayList<>(data);
        for (int j = 0; j < x.length; j++) {
            double h = EPS * Math.max(1, Math.abs(x[j]));
            double[] plus = x.clone(), minus = x.clone();
            plus[j] += h;
            minus[j] -= h;
            args.set(input, plus);
            double fp = Reference.run(f, args).getFirst()[0];
            args.set(input, minus);
            double fm = Reference.run(f, args).getFirst()[0];
            g[j] = (fp - fm) / (plus[j] - minus[j]);
        }
        return g;
    }

    private static long totalOutputSize(OpCase c) {
        long n = 0;
        for (TensorType t : c.outputs()) n += t.shape().size();
        return Math.max(1, n);
    }
}
