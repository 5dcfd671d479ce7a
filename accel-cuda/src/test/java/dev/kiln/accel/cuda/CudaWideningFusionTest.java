package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The graph rewrite alone (no GPU): which autocast patterns widen, and what the widened nodes read. */
class CudaWideningFusionTest {
    @Test void autocastContractionsWidenAndLinearTakesTheF32Bias() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 8, 16)), w = b.input(TensorType.of(DType.F32, 4, 16)), bias = b.input(TensorType.of(DType.F32, 4));
        Value xh = b.cast(x, DType.BF16), wh = b.cast(w, DType.BF16), bh = b.cast(bias, DType.BF16);
        Value lin = b.cast(b.apply1(new Composite.Linear(Composite.Activation.RELU), xh, wh, bh), DType.F32);
        Value mm = b.cast(b.matmul(xh, wh, false, true), DType.F32);
        Value tanh = b.cast(b.apply1(new Composite.Linear(Composite.Activation.TANH), xh, wh, bh), DType.F32);
        Value bhInput = b.input(TensorType.of(DType.BF16, 4));
        Value rawBias = b.cast(b.apply1(new Composite.Linear(Composite.Activation.NONE), xh, wh, bhInput), DType.F32);
        Graph g = b.build(List.of(lin, mm, tanh, rawBias));

        Graph fused = CudaWideningFusion.fuse(g);
        List<Node> widened = fused.nodes().stream().filter(n -> n.op() instanceof CudaWidening).toList();
        assertEquals(2, widened.size(), "relu linear and matmul widen; tanh (not an epilogue) and a bias that is no f32 cast do not");
        Node linear = widened.stream().filter(n -> ((CudaWidening) n.op()).contraction() instanceof Composite.Linear).findFirst().orElseThrow();
        assertEquals(bias, linear.inputs().get(2), "the widened linear reads the f32 bias itself");
        assertEquals(g.outputs(), fused.outputs());
        for (Node n : fused.nodes()) n.checkTypes();
        assertTrue(fused.nodes().stream().anyMatch(n -> n.op() instanceof Primitive.Cast c && c.to() == DType.BF16 && n.inputs().getFirst().equals(bias)),
                "the bias cast stays while the tanh linear still reads it");
    }
}
