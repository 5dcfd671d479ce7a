package dev.kiln.runtime.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

class AutocastTest {
    private static Graph mlpLike() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 8, 4)), w = b.input(TensorType.of(DType.F32, 3, 4));
        Value z = b.matmul(x, w, false, true);
        Value s = b.sum(b.unary(Primitive.UnaryFn.EXP, z), List.of(0, 1), false);
        return b.build(List.of(s, z));
    }

    @Test void fp32LeavesTheGraphAlone() {
        Graph g = mlpLike();
        assertSame(g, Autocast.apply(g, PrecisionPolicy.FP32));
    }

    @Test void bf16MixedCastsOnlyContractionOperandsAndCastsTheResultBack() {
        Graph g = Autocast.apply(mlpLike(), PrecisionPolicy.BF16_MIXED);
        Node mm = g.nodes().stream().filter(n -> n.op() instanceof Primitive.MatMul).findFirst().orElseThrow();
        assertTrue(mm.inputs().stream().allMatch(v -> v.type().dtype() == DType.BF16), g.toString());
        assertEquals(DType.BF16, mm.output().type().dtype());
        for (Node n : g.nodes()) {
            if (n.op() instanceof Primitive.Reduce || n.op() instanceof Primitive.Unary) {
                assertTrue(n.inputs().stream().allMatch(v -> v.type().dtype() == DType.F32), "stays f32: " + n);
            }
        }
        // Downstream consumers and the graph outputs keep their f32 values and identities.
        assertEquals(mlpLike().outputs().stream().map(Value::type).toList(), g.outputs().stream().map(Value::type).toList());
        assertEquals(3, g.nodes().stream().filter(n -> n.op() instanceof Primitive.Cast).count(), "two operand casts and one result cast");
    }
}
