package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The chain rewrite itself, without a GPU: which nodes merge and what the composed body reads.
 * That the composed kernels compute what the unfused graph computes is the conformance kit's
 * fusion-on/off section, run on the GPU machine (accel-cuda/gpu/run.sh).
 */
class CudaChainFusionTest {
    @Test void reluBackwardMaskAndScaleBecomeOneKernel() {
        Graph.Builder b = Graph.builder();
        Value g = b.input(TensorType.of(DType.F32, 32, 128)), z = b.input(TensorType.of(DType.F32, 32, 128));
        Value mask = b.cast(b.binary(BinaryFn.GT, z, b.scalar(0, z)), DType.F32);
        Value out = b.mul(b.mul(g, mask), b.scalar(0.5, g));
        Graph fused = CudaChainFusion.fuse(b.build(List.of(out)));
        assertEquals(1, fused.nodes().size(), fused.toString());
        Node n = fused.nodes().getFirst();
        CudaChain c = (CudaChain) n.op();
        assertEquals(2, n.inputs().size(), "g and z; both scalars inlined");
        assertTrue(c.body().contains("(0.0)") && c.body().contains("(0.5)"), c.body());
        assertTrue(c.kernel().source(3, false).contains("__global__ void k("), "a MapKernel source");
    }

    @Test void valuesReadTwiceOrOfAnotherShapeStaySeparate() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 4, 8)), row = b.input(TensorType.of(DType.F32, 8));
        Value e = b.unary(UnaryFn.EXP, row);            // shape [8]: not the chain's shape
        Value t = b.unary(UnaryFn.TANH, x);             // read twice below
        Value out = b.add(b.mul(t, t), e);
        Graph fused = CudaChainFusion.fuse(b.build(List.of(out, t)));
        assertTrue(fused.nodes().stream().anyMatch(n -> n.op() instanceof dev.kiln.spi.ir.Primitive.Unary u && u.fn() == UnaryFn.EXP), fused.toString());
        assertTrue(fused.nodes().stream().anyMatch(n -> n.outputs().contains(t)), "t is a graph output and stays defined");
    }
}
