package dev.kiln.tck.internal;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.tck.HostData;
import dev.kiln.tck.Reference;
import dev.kiln.tck.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/** One op as a one-node graph on the plugin against the reference on the same (rounded) inputs. */
public final class ForwardCheck {
    private ForwardCheck() {}

    /** The case's graph: its inputs, one node, its outputs. */
    public static Graph graph(OpCase c) {
        Graph.Builder b = Graph.builder();
        List<Value> in = new ArrayList<>();
        for (TensorType t : c.inputs()) in.add(b.input(t));
        return b.build(b.apply(c.op(), in));
    }

    /** Draws the inputs and rounds them to their dtypes, so the reference sees what the device sees. */
    public static List<double[]> inputs(OpCase c, Random r) {
        List<double[]> data = new ArrayList<>();
        for (int i = 0; i < c.inputs().size(); i++) {
            TensorType t = c.inputs().get(i);
            data.add(HostData.roundTrip(c.samplers().get(i).draw(r, Math.toIntExact(t.shape().size())), t));
        }
        return data;
    }

    public static void check(Accelerator acc, CompileOptions options, OpCase c, Function<TensorType, Tolerance> tolerance) {
        check(acc, options, c, tolerance, false);
    }

    /**
     * As {@link #check}, or, with {@code constants}, with every input but the first uploaded as a
     * constant ({@link Accelerator#uploadConstant}: a layer's weights in a model for inference)
     * and the executable run twice on them: a plugin that keeps data derived from a constant
     * (a packed layout) must give the same results on the run that reuses it.
     */
    public static void check(Accelerator acc, CompileOptions options, OpCase c, Function<TensorType, Tolerance> tolerance, boolean constants) {
        Graph g = graph(c);
        List<double[]> data = inputs(c, new Random(c.seed()));
        List<double[]> expected = Reference.run(g, data);
        List<List<double[]>> runs = PluginRun.run(acc, options, g, data, i -> constants && i > 0, constants ? 2 : 1);
        for (int r = 0; r < runs.size(); r++) {
            for (int i = 0; i < expected.size(); i++) {
                TensorType t = g.outputs().get(i).type();
                // The reference is float64; the device result is rounded to t once more when stored.
                double[] want = HostData.roundTrip(expected.get(i), t);
                String what = c.name() + " (" + t.dtype().label() + ", seed " + c.seed() + (constants ? ", constant operands, run " + (r + 1) : "") + ") output " + i;
                Compare.assertClose(what, t, runs.get(r).get(i), want, tolerance.apply(t), c.accumulation());
            }
        }
    }
}
