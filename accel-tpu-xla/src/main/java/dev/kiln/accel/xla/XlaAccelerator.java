package dev.kiln.accel.xla;

import dev.kiln.accel.xla.hlo.StableHloEmitter;
import dev.kiln.accel.xla.tf.XlaCallModuleExecutor;
import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.KernelAccelerator;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Graphs compiled whole: the runtime's graph (composites decomposed, as no composite is native
 * yet) becomes one StableHLO module, and XLA compiles and runs it. Buffers are host memory, since
 * XLA:CPU through {@code XlaCallModule} takes and returns host tensors on every run; there is no
 * device residency or donation across calls on this executor (a PJRT one will have both).
 */
final class XlaAccelerator extends KernelAccelerator {
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(DType.F32, DType.F64, DType.BF16, DType.F16, DType.I32, DType.I64, DType.I8, DType.BOOL),
            Set.of(), Set.of(PrecisionPolicy.FP32, PrecisionPolicy.BF16_MIXED), false);

    private final List<Device> devices = List.of(new Device("cpu", 0, "XLA:CPU (TensorFlow 2.18 XlaCallModule, StableHLO text)"));

    @Override public String name() { return "xla"; }

    @Override public List<Device> devices() { return devices; }

    @Override public Capabilities capabilities() { return CAPABILITIES; }

    /** None: the graph is compiled whole, by {@link #compile}. */
    @Override protected Kernel kernel(Node node, CompileOptions options) { return null; }

    @Override public Executable compile(Graph graph, CompileOptions options) {
        if (!memoryScope().scope().isAlive()) throw new IllegalStateException("this xla accelerator is closed");
        for (Node n : graph.nodes()) n.checkTypes();
        // The emitter decomposes every composite itself; inputs and outputs are the graph's either way.
        String module = StableHloEmitter.emit(graph, StableHloEmitter.Options.defaults()).text();
        List<TensorType> ins = graph.inputs().stream().map(Value::type).toList();
        List<TensorType> outs = graph.outputs().stream().map(Value::type).toList();
        return new XlaExecutable(this, XlaCallModuleExecutor.compile(module, ins, outs), outs);
    }

    /** One compiled module; inputs and outputs are copied in and out by TensorFlow on each run. */
    private record XlaExecutable(XlaAccelerator acc, XlaCallModuleExecutor exec, List<TensorType> outputs) implements Executable {
        @Override public List<Buffer> run(List<Buffer> inputs) {
            List<Buffer> out = new ArrayList<>(outputs.size());
            for (TensorType t : outputs) out.add(acc.allocate(t));
            run(inputs, out);
            return out;
        }

        /** Donated outputs are safe: every input is copied into TensorFlow before any output is written. */
        @Override public void run(List<Buffer> inputs, List<Buffer> outs) {
            exec.run(inputs.stream().map(XlaAccelerator::segment).toList(), outs.stream().map(XlaAccelerator::segment).toList());
        }

        @Override public void close() { exec.close(); }
    }

    private static MemorySegment segment(Buffer b) { return host(b).segment(); }
}
