package dev.kiln.tck.internal;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
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

/** Fusion on against fusion off against the reference, and runs that write into donated input buffers. */
public final class FusionCheck {
    private FusionCheck() {}

    /** Both compilations of {@code c} agree with the float64 reference. */
    public static void fusedMatchesDecomposition(Accelerator acc, CompileOptions options, FusionGraphs.GraphCase c, Function<TensorType, Tolerance> tol) {
        List<double[]> data = draw(c, new Random(c.name().hashCode()));
        List<double[]> want = Reference.run(c.graph(), data);
        for (boolean fusion : new boolean[] {true, false}) {
            List<double[]> got = PluginRun.run(acc, options.withFusion(fusion), c.graph(), data);
            for (int i = 0; i < want.size(); i++) {
                TensorType t = c.graph().outputs().get(i).type();
                Compare.assertClose(c.name() + (fusion ? " fused" : " unfused") + " output " + i, t, got.get(i), want.get(i), tol.apply(t), c.accumulation());
            }
        }
    }

    /**
     * Runs {@code c} {@code steps} times with output {@code k} written into the buffer of input
     * {@code donate[k]} (or a fresh buffer where it is -1), feeding each step's results back as the
     * reference would, and compares every output of the last step.
     */
    public static void donated(Accelerator acc, CompileOptions options, FusionGraphs.GraphCase c, int[] donate, int steps, Function<TensorType, Tolerance> tol) {
        Graph g = c.graph();
        List<double[]> data = draw(c, new Random(c.name().hashCode() + 1));
        List<Buffer> in = new ArrayList<>(), out = new ArrayList<>();
        try (Executable exe = acc.compile(PluginRun.lower(acc, g), options)) {
            for (int i = 0; i < data.size(); i++) in.add(HostData.upload(acc, g.inputs().get(i).type(), data.get(i)));
            for (int k = 0; k < donate.length; k++) out.add(donate[k] >= 0 ? in.get(donate[k]) : acc.allocate(g.outputs().get(k).type()));
            List<double[]> want = null;
            for (int s = 0; s < steps; s++) {
                want = Reference.run(g, data);
                exe.run(in, out);
                data = new ArrayList<>(data);
                for (int k = 0; k < donate.length; k++) {
                    if (donate[k] >= 0) data.set(donate[k], HostData.roundTrip(want.get(k), g.outputs().get(k).type()));
                }
            }
            for (int k = 0; k < donate.length; k++) {
                TensorType t = g.outputs().get(k).type();
                Compare.assertClose(c.name() + " output " + k + (donate[k] >= 0 ? " donated to input " + donate[k] : ""), t,
                        HostData.download(acc, out.get(k)), want.get(k), tol.apply(t), c.accumulation() * steps);
            }
        } finally {
            for (Buffer b : in) b.close();
            for (int k = 0; k < out.size(); k++) if (donate[k] < 0) out.get(k).close();
        }
    }

    private static List<double[]> draw(FusionGraphs.GraphCase c, Random r) {
        List<double[]> data = new ArrayList<>();
        for (int i = 0; i < c.graph().inputs().size(); i++) {
            Value v = c.graph().inputs().get(i);
            data.add(HostData.roundTrip(c.samplers().get(i).draw(r, Math.toIntExact(v.type().shape().size())), v.type()));
        }
        return data;
    }
}
