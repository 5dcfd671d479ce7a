package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.tck.HostData;
import dev.kiln.tck.Reference;
import dev.kiln.tck.internal.Sampler;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The int8 linear layer runs on oneDNN's int8 matmul, not its decomposition, and agrees with the definition. */
class OneDnnQuantizedLinearTest {
    private static OneDnnAccelerator acc;

    @BeforeAll static void open() { acc = (OneDnnAccelerator) new OneDnnProvider().open(AcceleratorConfig.defaults()); }

    @AfterAll static void close() { acc.close(); }

    @ParameterizedTest @EnumSource(value = Activation.class, names = {"NONE", "RELU"})
    void nativeKernelMatchesTheDefinition(Activation act) {
        int n = act == Activation.NONE ? 256 : 64, in = act == Activation.NONE ? 784 : 300, o = act == Activation.NONE ? 1024 : 33;
        List<TensorType> types = List.of(TensorType.of(DType.F32, n, in), TensorType.of(DType.I8, o, in), TensorType.of(DType.F32, o), TensorType.of(DType.F32, o));
        Graph.Builder b = Graph.builder();
        List<Value> ins = new ArrayList<>();
        for (TensorType t : types) ins.add(b.input(t));
        Composite.QuantizedLinear op = new Composite.QuantizedLinear(act);
        Value y = b.apply1(op, ins.toArray(Value[]::new));
        Node node = b.nodes().getFirst();
        Random r = new Random(11);
        List<Sampler> samplers = List.of(Sampler.quantizable(3), Sampler.integers(-127, 128), Sampler.uniform(0.001, 0.02), Sampler.uniform(-1, 1));
        List<double[]> data = new ArrayList<>();
        for (int i = 0; i < types.size(); i++) data.add(HostData.roundTrip(samplers.get(i).draw(r, (int) types.get(i).shape().size()), types.get(i)));
        double[] want = Reference.run(b.build(List.of(y)), data).getFirst();
        try (Kernel k = acc.kernel(node, CompileOptions.defaults())) {
            assertTrue(k instanceof OneDnnQuantizedLinear, "native int8 kernel, got " + k);
            System.out.println("int8 matmul " + n + "x" + in + "x" + o + ": " + ((OneDnnQuantizedLinear) k).implementation());
            List<HostBuffer> bufs = new ArrayList<>();
            MemorySegment[] inSegs = new MemorySegment[4];
            for (int i = 0; i < 4; i++) {
                HostBuffer hb = HostBuffer.allocate(types.get(i));
                bufs.add(hb);
                HostData.write(data.get(i), types.get(i), hb.segment());
                inSegs[i] = hb.segment();
            }
            HostBuffer out = HostBuffer.allocate(y.type());
            bufs.add(out);
            k.run(inSegs, new MemorySegment[] {out.segment()});
            double[] got = HostData.read(out.segment(), y.type());
            if (System.getenv("KILN_INT8_TIME") != null) {
                for (int rep = 0; rep < 3; rep++) {
                    long t0 = System.nanoTime();
                    for (int it = 0; it < 50; it++) k.run(inSegs, new MemorySegment[] {out.segment()});
                    long t1 = System.nanoTime();
                    float[] xf = new float[n * in];
                    byte[] qf = new byte[n * in];
                    MemorySegment.copy(inSegs[0], java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, xf, 0, xf.length);
                    float sc = 0;
                    for (int it = 0; it < 50; it++) sc += OneDnnQuantizedLinear.scale(xf);
                    long t2 = System.nanoTime();
                    for (int it = 0; it < 50; it++) OneDnnQuantizedLinear.quantize(xf, qf, sc);
                    long t3 = System.nanoTime();
                    System.out.printf("kernel %.1f us/run, scale pass %.1f us, quantize pass %.1f us (%s)%n", (t1 - t0) / 50e3, (t2 - t1) / 50e3, (t3 - t2) / 50e3, sc);
                }
            }
            for (int i = 0; i < got.length; i++) {
                assertEquals(want[i], got[i], 1e-6 * (in + 1) + 1e-5 * Math.abs(want[i]), "element " + i);
            }
            bufs.forEach(HostBuffer::close);
        }
    }
}
