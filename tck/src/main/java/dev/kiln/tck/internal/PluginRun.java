package dev.kiln.tck.internal;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.tck.HostData;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/** Compiles and runs a graph on the plugin as the runtime would, and brings the results home as doubles. */
public final class PluginRun {
    private PluginRun() {}

    /**
     * What the runtime hands {@code Accelerator.compile}: the composites the plugin does not report
     * native decomposed, the primitives it declared unsupported spelled in others (or an
     * {@link dev.kiln.spi.ir.UnsupportedPrimitiveException}), so the kit compiles the same.
     */
    public static Graph lower(Accelerator acc, Graph graph) {
        Capabilities caps = acc.capabilities();
        return Lowering.replaceUnsupported(Lowering.decompose(graph, caps::isNative), caps::supports, acc.name());
    }

    public static List<double[]> run(Accelerator acc, CompileOptions options, Graph graph, List<double[]> inputs) {
        return run(acc, options, graph, inputs, i -> false, 1).getFirst();
    }

    /**
     * Runs the compiled graph {@code runs} times on the same input buffers, those whose index
     * {@code constant} accepts uploaded with {@link Accelerator#uploadConstant} (as a quantized
     * model uploads its weights); returns each run's outputs.
     */
    public static List<List<double[]>> run(Accelerator acc, CompileOptions options, Graph graph, List<double[]> inputs, IntPredicate constant, int runs) {
        Graph lowered = lower(acc, graph);
        List<Buffer> in = new ArrayList<>();
        List<Buffer> out = new ArrayList<>();
        try (Executable exe = acc.compile(lowered, options)) {
            for (int i = 0; i < inputs.size(); i++) {
                TensorType t = graph.inputs().get(i).type();
                in.add(constant.test(i) ? acc.uploadConstant(t, HostData.write(inputs.get(i), t)) : HostData.upload(acc, t, inputs.get(i)));
            }
            List<List<double[]>> results = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                List<Buffer> o = exe.run(in);
                out.addAll(o);
                if (o.size() != graph.outputs().size()) {
                    throw new AssertionError("executable returned " + o.size() + " buffers for " + graph.outputs().size() + " outputs");
                }
                List<double[]> result = new ArrayList<>();
                for (int i = 0; i < o.size(); i++) {
                    if (!o.get(i).type().equals(graph.outputs().get(i).type())) {
                        throw new AssertionError("output " + i + " is " + o.get(i).type() + ", graph says " + graph.outputs().get(i).type());
                    }
                    result.add(HostData.download(acc, o.get(i)));
                }
                results.add(result);
            }
            return results;
        } finally {
            for (Buffer b : in) b.close();
            for (Buffer b : out) b.close();
        }
    }
}
