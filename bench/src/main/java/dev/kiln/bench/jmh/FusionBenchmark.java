package dev.kiln.bench.jmh;

import dev.kiln.core.DType;
import dev.kiln.runtime.exec.Passes;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Each fused kernel against its unfused form on the oneDNN plugin: the same graph compiled with
 * {@code CompileOptions.fusion()} on and off, run into preallocated (and, for updates, donated)
 * buffers as a compiled training step runs it. {@link FusionRatios} prints the ratios.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FusionBenchmark {
    @Param({"linearReluForward", "linearReluBackward", "softmaxCrossEntropy", "adam784x128", "seedStep"})
    public String graph;

    @Param({"true", "false"})
    public boolean fusion;

    private Accelerator accelerator;
    private Executable executable;
    private List<Buffer> inputs, outputs;

    @Setup(Level.Trial)
    public void setUp() {
        AcceleratorProvider p = ServiceLoader.load(AcceleratorProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals("onednn")).findFirst().orElseThrow(() -> new IllegalStateException("the onednn plugin is not on the class path"));
        accelerator = p.open(AcceleratorConfig.defaults());
        BenchGraphs.Case c = switch (graph) {
            case "linearReluForward" -> BenchGraphs.linearReluForward();
            case "linearReluBackward" -> BenchGraphs.linearReluBackward();
            case "softmaxCrossEntropy" -> BenchGraphs.softmaxCrossEntropy();
            case "adam784x128" -> BenchGraphs.adam();
            case "seedStep" -> BenchGraphs.seedStep();
            default -> throw new IllegalArgumentException(graph);
        };
        // As the runtime's GraphCompiler: decompose what the plugin does not run natively, drop dead code.
        var lowered = Passes.deadCodeElimination(Lowering.decompose(c.graph(), accelerator.capabilities()::isNative));
        executable = accelerator.compile(lowered, CompileOptions.defaults().withFusion(fusion));
        SplittableRandom r = new SplittableRandom(42);
        inputs = new ArrayList<>();
        for (var v : c.graph().inputs()) inputs.add(upload(v.type(), r));
        outputs = new ArrayList<>();
        for (int k = 0; k < c.donated().length; k++) {
            outputs.add(c.donated()[k] >= 0 ? inputs.get(c.donated()[k]) : accelerator.allocate(c.graph().outputs().get(k).type()));
        }
    }

    /** Random data: labels in [0, 10), scalars as lr 1e-3 and step 1 would be, tensors uniform in [-1, 1) (moments' v in [0, 1)). */
    private Buffer upload(TensorType t, SplittableRandom r) {
        int n = Math.toIntExact(t.shape().size());
        MemorySegment host = Arena.ofAuto().allocate(Math.max(1, t.byteSize()), 64);
        for (int i = 0; i < n; i++) {
            if (t.dtype() == DType.I32) host.setAtIndex(ValueLayout.JAVA_INT, i, r.nextInt(10));
            else if (n == 1) host.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1e-3f);
            else host.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(0, 1));
        }
        return accelerator.upload(t, host);
    }

    @Benchmark
    public void run() { executable.run(inputs, outputs); }

    @TearDown(Level.Trial)
    public void tearDown() {
        executable.close();
        for (Buffer b : outputs) b.close();
        for (Buffer b : inputs) b.close();
        accelerator.close();
    }
}
