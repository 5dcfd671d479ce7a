package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
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
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The int8 linear layer runs on oneDNN's int8 matmul, not its decomposition, and agrees with the
 * definition (float64 reference) whichever source type its batch takes; a constant weight is
 * packed once, any other weight is read afresh on every call.
 */
class OneDnnQuantizedLinearTest {
    private static OneDnnAccelerator acc;

    @BeforeAll static void open() { acc = (OneDnnAccelerator) new OneDnnProvider().open(AcceleratorConfig.defaults()); }

    @AfterAll static void close() { acc.close(); }

    /** A problem: the four input types and values drawn for them; {@code nonNegative} takes |x|. */
    private record Problem(List<TensorType> types, List<double[]> data, Graph graph, Node node, Value y) {
        static Problem of(Activation act, int n, int in, int o, boolean nonNegative, long seed) {
            List<TensorType> types = List.of(TensorType.of(DType.F32, n, in), TensorType.of(DType.I8, o, in), TensorType.of(DType.F32, o), TensorType.of(DType.F32, o));
            Graph.Builder b = Graph.builder();
            List<Value> ins = new ArrayList<>();
            for (TensorType t : types) ins.add(b.input(t));
            Value y = b.apply1(new Composite.QuantizedLinear(act), ins.toArray(Value[]::new));
            Random r = new Random(seed);
            List<Sampler> samplers = List.of(Sampler.quantizable(3), Sampler.integers(-127, 128), Sampler.uniform(0.001, 0.02), Sampler.uniform(-1, 1));
            List<double[]> data = new ArrayList<>();
            for (int i = 0; i < types.size(); i++) data.add(HostData.roundTrip(samplers.get(i).draw(r, (int) types.get(i).shape().size()), types.get(i)));
            // |x| keeps every element within 0.4 of a multiple of the scale, as Sampler.quantizable drew it.
            if (nonNegative) for (int i = 0; i < data.get(0).length; i++) data.get(0)[i] = Math.abs(data.get(0)[i]);
            return new Problem(types, data, b.build(List.of(y)), b.nodes().getFirst(), y);
        }

        double[] reference() { return Reference.run(graph, data).getFirst(); }

        /** The kit's f32 tolerance on the dequantized sum of {@code in} products. */
        void check(double[] got, double[] want) {
            int in = types.get(0).shape().dim(1);
            for (int i = 0; i < got.length; i++) assertEquals(want[i], got[i], 1e-6 * (in + 1) + 1e-5 * Math.abs(want[i]), "element " + i);
        }
    }

    @ParameterizedTest
    @CsvSource({"NONE, 256, 784, 1024, false", "RELU, 256, 1024, 1024, true", "RELU, 64, 300, 33, false", "NONE, 32, 1024, 10, true", "RELU, 1, 784, 128, true", "RELU, 1, 1024, 1024, true"})
    void nativeKernelMatchesTheDefinition(Activation act, int n, int in, int o, boolean nonNegative) {
        Problem p = Problem.of(act, n, in, o, nonNegative, 11);
        try (Kernel k = acc.kernel(p.node(), CompileOptions.defaults()); Arena arena = Arena.ofConfined()) {
            assertTrue(k instanceof OneDnnQuantizedLinear, "native int8 kernel, got " + k);
            OneDnnQuantizedLinear q = (OneDnnQuantizedLinear) k;
            System.out.println("int8 matmul " + n + "x" + in + "x" + o + ": " + q.implementation());
            MemorySegment[] ins = new MemorySegment[4];
            for (int i = 0; i < 4; i++) ins[i] = HostData.write(p.data().get(i), p.types().get(i));
            MemorySegment y = arena.allocate(p.y().type().byteSize(), 64);
            k.run(ins, new MemorySegment[] {y});
            assertNotNull(q.made(!nonNegative), "the " + (nonNegative ? "u8" : "s8") + "-source matmul ran");
            if (!nonNegative) assertNull(q.made(false), "a batch with negatives needs no u8-source matmul");
            p.check(HostData.read(y, p.y().type()), p.reference());
            if (System.getenv("KILN_INT8_TIME") != null) Int8Timing.print(q, ins, y, p.types().get(1), n, in, o);
        }
    }

    @Test void aConstantWeightIsPackedOnceAndEveryOtherWeightIsReadAfresh() {
        Problem p = Problem.of(Activation.RELU, 16, 40, 24, false, 3), other = Problem.of(Activation.RELU, 16, 40, 24, false, 4);
        TensorType wt = p.types().get(1);
        List<double[]> changed = new ArrayList<>(p.data());
        changed.set(1, other.data().get(1));
        double[] want = p.reference(), wantChanged = Reference.run(p.graph(), changed).getFirst();
        try (Kernel k = acc.kernel(p.node(), CompileOptions.defaults())) {
            OneDnnQuantizedLinear q = (OneDnnQuantizedLinear) k;
            MemorySegment[] ins = new MemorySegment[4];
            for (int i = 0; i < 4; i++) ins[i] = HostData.write(p.data().get(i), p.types().get(i));
            MemorySegment[] y = {Arena.ofAuto().allocate(p.y().type().byteSize(), 64)};
            HostBuffer constant = HostBuffer.constant(wt, ins[1], Arena.ofAuto()), second = HostBuffer.constant(wt, HostData.write(other.data().get(1), wt), Arena.ofAuto());
            ins[1] = constant.segment();
            for (int run = 0; run < 3; run++) {
                k.run(ins, y);
                p.check(HostData.read(y[0], p.y().type()), want);
            }
            assertEquals(1, q.made(true).packs(), "a constant weight is packed once");
            // A writable weight is read in place, so rewriting it is seen at once.
            MemorySegment writable = HostData.write(p.data().get(1), wt);
            ins[1] = writable;
            k.run(ins, y);
            p.check(HostData.read(y[0], p.y().type()), want);
            HostData.write(other.data().get(1), wt, writable);
            k.run(ins, y);
            p.check(HostData.read(y[0], p.y().type()), wantChanged);
            assertEquals(1, q.made(true).packs(), "writable weights are not packed");
            // Another constant buffer is packed anew, and the first one again when it comes back.
            ins[1] = second.segment();
            k.run(ins, y);
            p.check(HostData.read(y[0], p.y().type()), wantChanged);
            ins[1] = constant.segment();
            k.run(ins, y);
            p.check(HostData.read(y[0], p.y().type()), want);
            assertEquals(3, q.made(true).packs());
            constant.close();
            second.close();
        }
    }

    /** Through a compiled executable: another constant weight buffer, or a rewritten ordinary one, gives its own result. */
    @Test void anExecutableSeesEachWeightBufferItIsGiven() {
        Problem p = Problem.of(Activation.NONE, 8, 64, 16, true, 5), other = Problem.of(Activation.NONE, 8, 64, 16, true, 6);
        List<double[]> second = new ArrayList<>(p.data());
        second.set(1, other.data().get(1));
        double[] want1 = p.reference(), want2 = Reference.run(p.graph(), second).getFirst();
        List<Buffer> bufs = new ArrayList<>();
        try (Executable e = acc.compile(p.graph(), CompileOptions.defaults())) {
            for (int i = 0; i < 4; i++) bufs.add(HostData.upload(acc, p.types().get(i), p.data().get(i)));
            TensorType wt = p.types().get(1);
            Buffer c1 = acc.uploadConstant(wt, HostData.write(p.data().get(1), wt)), c2 = acc.uploadConstant(wt, HostData.write(other.data().get(1), wt));
            bufs.add(c1);
            bufs.add(c2);
            for (Buffer w : List.of(c1, c2, c1, bufs.get(1))) {
                List<Buffer> in = List.of(bufs.get(0), w, bufs.get(2), bufs.get(3));
                p.check(HostData.download(acc, e.run(in).getFirst()), w == c2 ? want2 : want1);
            }
            acc.copyIn(HostData.write(other.data().get(1), wt), bufs.get(1));
            p.check(HostData.download(acc, e.run(List.of(bufs.get(0), bufs.get(1), bufs.get(2), bufs.get(3))).getFirst()), want2);
        } finally {
            bufs.forEach(Buffer::close);
        }
    }
}
