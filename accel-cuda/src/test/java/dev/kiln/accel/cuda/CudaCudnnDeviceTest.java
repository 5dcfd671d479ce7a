package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.core.Shape;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.spi.ir.Window2d;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Wherever cuDNN loads, a CNN's convolutions (forward, backward data, backward filter), batch
 * norm and max pooling plan through it: no silent fallback to Kiln's own kernels (14x slower).
 * Reads the routes the planner records per node. Needs a GPU and libcudnn.so.9; skips elsewhere
 * with the reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaCudnnDeviceTest {
    private CudaAccelerator acc;

    @BeforeAll void open() { acc = DeviceChecks.openOrNull(); }

    @BeforeEach void needsGpuAndCudnn() {
        DeviceChecks.assumeOpen(acc);
        Assumptions.assumeTrue(acc.hasCudnn(), "cuDNN did not load (libcudnn.so.9 not on LD_LIBRARY_PATH, or -Dkiln.cuda.cudnn=false); run.sh puts pip's nvidia/cudnn/lib there");
    }

    @AfterAll void close() { if (acc != null) acc.close(); }

    /** The FashionMnistCnn's shapes and a strided, padded, grouped one: every convolution of forward and backward. */
    private static Graph convolutions(DType t) {
        Graph.Builder b = Graph.builder();
        Object[][] layers = {{new int[] {32, 1, 28, 28}, new int[] {32, 1, 3, 3}, Window2d.square(3, 1, 1), 1},
                {new int[] {32, 32, 14, 14}, new int[] {64, 32, 3, 3}, Window2d.square(3, 1, 1), 1},
                {new int[] {8, 16, 17, 17}, new int[] {16, 4, 5, 5}, Window2d.square(5, 2, 2), 4}};
        List<Value> outs = new ArrayList<>();
        for (Object[] l : layers) {
            int[] xd = (int[]) l[0], wd = (int[]) l[1];
            Window2d win = (Window2d) l[2];
            int groups = (Integer) l[3];
            Value x = b.input(TensorType.of(t, xd)), w = b.input(TensorType.of(t, wd));
            Value y = b.apply1(new Primitive.Conv2d(win, groups), x, w);
            Value dy = b.input(y.type());
            outs.add(y);
            outs.add(b.apply1(new Primitive.Conv2dBackwardData(win, groups, Shape.of(xd)), dy, w));
            outs.add(b.apply1(new Primitive.Conv2dBackwardWeights(win, groups, Shape.of(wd)), x, dy));
        }
        return b.build(outs);
    }

    @Test void everyConvolutionPlansThroughCudnn() {
        Object[][] cases = {{DType.F32, PrecisionPolicy.FP32, 1e-4}, {DType.F32, PrecisionPolicy.TF32, 5e-3},
                {DType.BF16, PrecisionPolicy.BF16_MIXED, 3e-2}, {DType.F16, PrecisionPolicy.FP16_MIXED, 1e-2}};
        for (Object[] c : cases) {
            DType t = (DType) c[0];
            Graph g = convolutions(t);
            try (Executable exe = acc.compile(g, CompileOptions.defaults().withPrecision((PrecisionPolicy) c[1]))) {
                Map<String, Integer> routes = ((CudaGraphExecutable) exe).routes();
                System.out.println("cudnn routes " + t + " " + c[1] + ": " + routes);
                for (String kind : new String[] {"forward", "backward data", "backward filter"}) {
                    assertEquals(3, routes.getOrDefault("conv2d " + kind + " " + t.label() + ": cuDNN", 0), kind + " " + t + " " + c[1] + ": " + routes);
                }
                assertTrue(routes.keySet().stream().noneMatch(r -> r.contains("Kiln kernel")), "a silent fallback: " + routes);
                DeviceChecks.check(acc, g, exe, new Random(3), (Double) c[2]);
            }
        }
    }

    @Test void batchNormAndMaxPoolingPlanThroughCudnn() {
        Graph.Builder b = Graph.builder();
        TensorType x = TensorType.of(DType.F32, 16, 8, 12, 12), stat = TensorType.of(DType.F32, 8);
        Value in = b.input(x), gamma = b.input(stat), beta = b.input(stat), mean = b.input(stat), var = b.input(stat), dy = b.input(x);
        List<Value> outs = new ArrayList<>(b.apply(new Composite.BatchNorm(true, 0.1, 1e-5), List.of(in, gamma, beta, mean, var)));
        outs.addAll(b.apply(new Composite.BatchNormGrad(1e-5), List.of(in, gamma, dy)));
        outs.add(b.apply1(new Composite.MaxPool2d(Window2d.square(2, 2, 0)), in));
        Graph g = b.build(outs);
        try (Executable exe = acc.compile(g, CompileOptions.defaults())) {
            Map<String, Integer> routes = ((CudaGraphExecutable) exe).routes();
            assertEquals(1, routes.get("batchnorm f32: cuDNN"), routes.toString());
            assertEquals(1, routes.get("batchnorm backward f32: cuDNN"), routes.toString());
            assertEquals(1, routes.get("maxpool2d f32: cuDNN"), routes.toString());
        }
    }
}
