package dev.kiln.tck.internal;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.tck.HostData;
import java.util.ArrayList;
import java.util.List;

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
        Graph lowered = lower(acc, graph);
        List<Buffer> in = new ArrayList<>();
        List<Buffer> out = List.of();
        try (Executable exe = acc.compile(lowered, options)) {
            for (int i = 0; i < inputs.size(); i++) in.add(HostData.upload(acc, graph.inputs().get(i).type(), inputs.get(i)));
            out = exe.run(in);
            if (out.size() != graph.outputs().size()) {
                throw new AssertionError("executable returned " + out.size() + " buffers for " + graph.outputs().size() + " outputs");
            }
            List<double[]> result = new ArrayList<>();
            for (int i = 0; i < out.size(); i++) {
                if (!out.get(i).type().equals(graph.outputs().get(i).type())) {
                    throw new AssertionError("output " + i + " is " + out.get(i).type() + ", graph says " + graph.outputs().get(i).type());
                }
                result.add(HostData.download(acc, out.get(i)));
            }
            return result;
        } finally {
            for (Buffer b : in) b.close();
            for (Buffer b : out) b.close();
        }
    }
}
