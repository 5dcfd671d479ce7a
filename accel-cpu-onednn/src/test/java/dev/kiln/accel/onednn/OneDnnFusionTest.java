package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.runtime.exec.Passes;
import dev.kiln.tck.internal.FusionGraphs;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rule tables produce the kernels they are meant to (numbers are the conformance kit's job). */
class OneDnnFusionTest {
    private static TensorType f32(int... d) { return TensorType.of(DType.F32, d); }

    private static List<String> ops(Graph g) { return g.nodes().stream().map(n -> n.op().opName()).toList(); }

    @Test
    void reluLayerForwardAndBackwardBecomeTwoFusedKernelsAndTwoMatmuls() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(8, 20)), w = b.input(f32(12, 20)), bias = b.input(f32(12)), g = b.input(f32(8, 12));
        Value z = b.apply1(new Composite.Linear(Activation.NONE), x, w, bias);
        Value y = b.unary(UnaryFn.RELU, z);
        Value dz = b.mul(g, b.cast(b.binary(BinaryFn.GT, z, b.scalar(0, z)), DType.F32));
        Graph fused = OneDnnFusion.fuse(b.build(List.of(y, b.matmul(dz, x, true, false), b.sum(dz, List.of(0), false))));
        assertEquals(List.of("linear", "chain_colsum[mul($0, gt($1, 0.0))]", "matmul"), ops(fused), fused::toString);
        assertEquals(new Composite.Linear(Activation.RELU), fused.nodes().getFirst().op());
    }

    /** Autocast's bf16 layer: its three contractions with their casts back to f32, and the relu, become three matmuls. */
    @Test
    void aBf16MixedReluLayerBecomesThreeMatmulsWithF32Results() {
        org.junit.jupiter.api.Assumptions.assumeTrue(CpuFeatures.bf16(), "this CPU has neither AVX512_BF16 nor AMX, so the plugin leaves bf16 contractions unfused;"
                + " the test runs on a CPU with either (an AMD Zen 4 or 5, an Intel Cooper Lake or Sapphire Rapids): ./mvnw -pl accel-cpu-onednn -am verify -Dtest=OneDnnFusionTest");
        Graph g = FusionGraphs.mixed().getFirst().graph();
        Graph fused = OneDnnFusion.fuse(g);
        List<Node> low = fused.nodes().stream().filter(n -> n.op() instanceof FusedOps.LowMatMul).toList();
        assertEquals(List.of(new FusedOps.LowMatMul(false, true, true, Activation.RELU), new FusedOps.LowMatMul(true, false, false, Activation.NONE),
                new FusedOps.LowMatMul(false, false, false, Activation.NONE)), low.stream().map(Node::op).toList(), fused::toString);
        for (Node n : low) assertEquals(DType.F32, n.output().type().dtype());
        assertFalse(ops(fused).contains("relu"), fused::toString);
    }

    @Test
    void int8LinearAndItsReluBecomeOneNodeUnlessTheLinearOutputIsReadElsewhere() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(8, 20)), wq = b.input(TensorType.of(DType.I8, 12, 20)), ws = b.input(f32(12)), bias = b.input(f32(12));
        Value h = b.unary(UnaryFn.RELU, b.apply1(new Composite.QuantizedLinear(Activation.NONE), x, wq, ws, bias));
        Value z = b.apply1(new Composite.QuantizedLinear(Activation.NONE), h, b.input(TensorType.of(DType.I8, 12, 12)), ws, bias);
        Graph fused = OneDnnFusion.fuse(b.build(List.of(b.unary(UnaryFn.RELU, z), z)));
        assertEquals(List.of(new Composite.QuantizedLinear(Activation.RELU), new Composite.QuantizedLinear(Activation.NONE)),
                fused.nodes().stream().limit(2).map(Node::op).toList(), fused::toString);
        assertEquals(List.of("quantizedlinear", "quantizedlinear", "relu"), ops(fused), fused::toString);
    }

    @Test
    void matmulBiasActivationBecomesOneNode() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(8, 20)), w = b.input(f32(20, 12)), bias = b.input(f32(12));
        Value y = b.unary(UnaryFn.TANH, b.add(bias, b.matmul(x, w, false, false)));
        Graph fused = OneDnnFusion.fuse(b.build(List.of(y)));
        assertEquals(List.of(new FusedOps.MatMulBias(false, false, Activation.TANH)), fused.nodes().stream().map(Node::op).toList(), fused::toString);
    }

    @Test
    void anIntermediateReadElsewhereStaysAnOutputOfItsOwnNode() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(4, 4));
        Value e = b.unary(UnaryFn.EXP, x);
        Value s = b.add(e, b.scalar(1, e));
        Graph fused = OneDnnFusion.fuse(b.build(List.of(s, e)));
        assertEquals(List.of("exp", "chain[add($0, 1.0)]"), ops(fused), fused::toString);
    }

    @Test
    void aConvolutionStepRunsOnOneDnnsOwnOperationsWithBlockedActivations() {
        // As the runtime hands it over: native composites kept, dead work (the constant pooling kernel's gradient) gone.
        Graph step = Passes.deadCodeElimination(Lowering.decompose(FusionGraphs.convBlocks().graph(), c -> c instanceof Composite.MaxPool2d || c instanceof Composite.BatchNorm || c instanceof Composite.BatchNormGrad));
        Graph fused = OneDnnFusion.fuse(step);
        List<String> ops = fused.nodes().stream().map(n -> n.op() instanceof FusedOps.Formatted f ? f.op().opName() : n.op().opName()).toList();
        for (String op : List.of("conv2d_bias_relu", "maxpool2d_train", "maxpool2d_grad", "avgpool2d", "avgpool2d_grad", "conv2dbackwardweights_bias",
                "conv2d_bias_none", "batchnorm_train", "batchnorm_train_grad")) {
            assertTrue(ops.contains(op), op + " missing from " + fused);
        }
        for (String op : List.of("maxpool2dindices", "scatteradd", "reduce", "conv2d")) assertFalse(ops.contains(op), op + " left in " + fused);
        // The first block's relu mask runs on the pooled [2, 16, 3, 3] gradient, before the scatter, not on [2, 16, 6, 6].
        assertTrue(fused.nodes().stream().noneMatch(n -> n.op() instanceof FusedOps.Chain && n.output().type().shape().dim(2) == 6), fused::toString);
        if (MemoryFormat.BLOCK == 0) return;
        // Blocked from the image to the last gradient: the only reorders are of the image (16 channels here),
        // of the pooled output the plain loss reads, and of the gradient the loss sends back.
        long reorders = fused.nodes().stream().filter(n -> n.op() instanceof FusedOps.Reformat).count();
        assertEquals(3, reorders, fused::toString);
        assertTrue(fused.nodes().stream().filter(n -> n.op() instanceof FusedOps.Formatted).count() >= 8, fused::toString);
    }
}
