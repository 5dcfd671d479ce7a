package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.tck.HostData;
import dev.kiln.tck.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** What the kit does not see: CUDA graph replay, tensor-core precisions against float64, NCCL on one rank. Needs a GPU. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaDeviceTest {
    private CudaAccelerator acc;

    @BeforeAll void open() {
        Availability a = new CudaProvider().probe();
        Assumptions.assumeTrue(a.available(), () -> "cuda is not available here: " + a.reason());
        acc = (CudaAccelerator) new CudaProvider().open(AcceleratorConfig.defaults());
    }

    @AfterAll void close() { if (acc != null) acc.close(); }

    @Test void capabilitiesReportTensorCorePoliciesOnAmpereAndNewer() {
        assertTrue(acc.capabilities().precisions().contains(PrecisionPolicy.FP32));
        if (acc.device().ampereOrNewer()) {
            assertTrue(acc.capabilities().precisions().containsAll(List.of(PrecisionPolicy.TF32, PrecisionPolicy.BF16_MIXED, PrecisionPolicy.FP16_MIXED)));
        }
        System.out.println("cuda device: " + acc.devices() + ", precisions " + acc.capabilities().precisions() + ", cuDNN " + (acc.hasCudnn() ? "loaded" : "not loaded"));
    }

    /** A linear layer, softmax and a matmul as one captured CUDA graph, replayed with new inputs. */
    @Test void compiledGraphIsCapturedOnceAndReplayed() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 64, 96)), w = b.input(TensorType.of(DType.F32, 48, 96)), bias = b.input(TensorType.of(DType.F32, 48));
        Value h = b.apply1(new Composite.Linear(Composite.Activation.GELU), x, w, bias);
        Value p = b.apply1(new Composite.Softmax(1), h);
        Graph g = b.build(List.of(p, b.matmul(p, w, false, false)));
        try (Executable exe = acc.compile(g, CompileOptions.defaults())) {
            assertTrue(((CudaGraphExecutable) exe).usesCudaGraph(), "a multi-step graph replays as a CUDA graph");
            for (int run = 0; run < 3; run++) check(g, exe, new Random(run), 1e-5);
        }
    }

    /** bf16 and f16 matmuls on tensor cores with f32 accumulation, and TF32, against float64. */
    @Test void lowPrecisionMatmulsMatchFloat64() {
        Object[][] cases = {{DType.BF16, PrecisionPolicy.BF16_MIXED, 2e-2}, {DType.F16, PrecisionPolicy.FP16_MIXED, 1e-2}, {DType.F32, PrecisionPolicy.TF32, 2e-3}};
        for (Object[] c : cases) {
            DType t = (DType) c[0];
            Graph.Builder b = Graph.builder();
            Value x = b.input(TensorType.of(t, 128, 256)), w = b.input(TensorType.of(t, 64, 256)), bias = b.input(TensorType.of(t, 64));
            Graph g = b.build(List.of(b.apply1(new Composite.Linear(Composite.Activation.RELU), x, w, bias), b.matmul(x, w, false, true)));
            try (Executable exe = acc.compile(g, CompileOptions.defaults().withPrecision((PrecisionPolicy) c[1]))) {
                check(g, exe, new Random(5), (Double) c[2]);
            }
        }
    }

    /** Autocast's cast(contraction(bf16), f32) as one cuBLASLt call writing f32, with fusion on and off. */
    @Test void wideningContractionsMatchFloat64() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 128, 256)), w = b.input(TensorType.of(DType.F32, 64, 256)), bias = b.input(TensorType.of(DType.F32, 64));
        Value xh = b.cast(x, DType.BF16), wh = b.cast(w, DType.BF16), bh = b.cast(bias, DType.BF16);
        List<Value> outs = new ArrayList<>();
        for (Composite.Activation act : List.of(Composite.Activation.NONE, Composite.Activation.RELU, Composite.Activation.GELU)) {
            outs.add(b.cast(b.apply1(new Composite.Linear(act), xh, wh, bh), DType.F32));
        }
        outs.add(b.cast(b.matmul(xh, wh, false, true), DType.F32));
        outs.add(b.cast(b.matmul(xh, xh, true, false), DType.F32));
        Graph g = b.build(outs);
        assertTrue(CudaWideningFusion.fuse(g).nodes().stream().filter(n -> n.op() instanceof CudaWidening).count() == 5, "every contraction widens");
        for (boolean fusion : new boolean[] {true, false}) {
            try (Executable exe = acc.compile(g, CompileOptions.defaults().withPrecision(PrecisionPolicy.BF16_MIXED).withFusion(fusion))) {
                check(g, exe, new Random(7), 2e-2);
            }
        }
    }

    /** Each shape of reduction the planner picks: rows, columns, long rows split across blocks, and any strides. */
    @Test void reductionsOfEveryShapeMatchFloat64() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 3, 50001)), y = b.input(TensorType.of(DType.F32, 2000, 3, 40));
        Graph g = b.build(List.of(b.sum(x, List.of(1), false), b.sum(x, List.of(0, 1), false),
                b.apply1(new dev.kiln.spi.ir.Primitive.Reduce(dev.kiln.spi.ir.Primitive.ReduceFn.MAX, List.of(1), false), x),
                b.sum(y, List.of(2), false), b.sum(y, List.of(0), false), b.sum(y, List.of(0, 2), false), b.sum(y, List.of(0, 1), false)));
        try (Executable exe = acc.compile(g, CompileOptions.defaults())) {
            check(g, exe, new Random(3), 1e-5);
        }
    }

    /** Fused attention and its backward in bf16 (wide scores, bf16 probabilities) against float64. */
    @Test void halfPrecisionAttentionMatchesFloat64() {
        for (boolean causal : new boolean[] {true, false}) {
            Graph.Builder b = Graph.builder();
            TensorType t = TensorType.of(DType.BF16, 4, 64, 32);
            Value q = b.input(t), k = b.input(t), v = b.input(t), dO = b.input(t);
            List<Value> outs = new ArrayList<>(List.of(b.apply1(new Composite.Attention(causal, 0.125), q, k, v)));
            outs.addAll(b.apply(new Composite.AttentionGrad(causal, 0.125), List.of(q, k, v, dO)));
            Graph g = b.build(outs);
            try (Executable exe = acc.compile(g, CompileOptions.defaults().withPrecision(PrecisionPolicy.BF16_MIXED))) {
                check(g, exe, new Random(11), 3e-2);
            }
        }
    }

    @Test void ncclOneRankCollectives() {
        Assumptions.assumeTrue(acc.capabilities().collectives(), "NCCL (libnccl.so.2) did not load");
        TensorType t = TensorType.of(DType.F32, 1000);
        double[] data = new double[1000];
        for (int i = 0; i < data.length; i++) data[i] = i * 0.5 - 7;
        try (Collectives c = acc.collectives(0, 1, null); Buffer in = HostData.upload(acc, t, data)) {
            assertEquals(1, c.size());
            for (int op = 0; op < 4; op++) {
                try (Buffer out = acc.allocate(t)) {
                    switch (op) {
                        case 0 -> c.allReduce(in, out);
                        case 1 -> c.broadcast(in, out, 0);
                        case 2 -> c.allGather(in, out);
                        default -> c.reduceScatter(in, out);
                    }
                    assertArrayEquals(data, HostData.download(acc, out), "collective " + op + " on one rank is the identity");
                }
            }
            c.barrier();
        }
    }

    private void check(Graph g, Executable exe, Random r, double rtol) {
        List<double[]> data = new ArrayList<>();
        List<Buffer> in = new ArrayList<>();
        for (Value v : g.inputs()) {
            double[] d = new double[Math.toIntExact(v.type().shape().size())];
            for (int i = 0; i < d.length; i++) d[i] = r.nextDouble() * 2 - 1;
            d = HostData.roundTrip(d, v.type());
            data.add(d);
            in.add(HostData.upload(acc, v.type(), d));
        }
        List<double[]> want = Reference.run(g, data);
        List<Buffer> out = exe.run(in);
        for (int i = 0; i < out.size(); i++) {
            double[] got = HostData.download(acc, out.get(i)), w = want.get(i);
            double scale = 0;
            for (double v : w) scale = Math.max(scale, Math.abs(v));
            for (int j = 0; j < w.length; j++) {
                assertTrue(Math.abs(got[j] - w[j]) <= rtol * Math.max(1, scale), "output " + i + "[" + j + "] " + got[j] + " vs " + w[j] + " (" + g.outputs().get(i).type() + ")");
            }
        }
        in.forEach(Buffer::close);
        out.forEach(Buffer::close);
    }
}
