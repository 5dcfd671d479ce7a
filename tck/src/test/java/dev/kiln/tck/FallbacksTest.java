package dev.kiln.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.UnsupportedPrimitiveException;
import dev.kiln.spi.ir.Value;
import dev.kiln.tck.internal.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Each fallback the IR spells an unsupported primitive in computes that primitive, to float64 rounding, under the reference. */
class FallbacksTest {

    static Stream<Primitive> withFallbacks() {
        return Stream.concat(Stream.of(UnaryFn.NEG, UnaryFn.SQRT, UnaryFn.SIGMOID, UnaryFn.RELU, UnaryFn.ABS, UnaryFn.GELU).map(Primitive.Unary::new),
                Stream.of(BinaryFn.SUB, BinaryFn.MIN, BinaryFn.DIV).map(Primitive.Binary::new));
    }

    @ParameterizedTest @MethodSource("withFallbacks")
    void theFallbackComputesThePrimitive(Primitive p) {
        for (DType d : p instanceof Primitive.Unary || p.equals(new Primitive.Binary(BinaryFn.DIV)) ? List.of(DType.F64) : List.of(DType.F64, DType.I32)) {
            Graph g = oneNode(p, d);
            Graph spelled = Lowering.replaceUnsupported(g, q -> !q.equals(p), "test");
            assertFalse(spelled.nodes().stream().anyMatch(n -> n.op().equals(p)), spelled.toString());
            Random r = new Random(p.hashCode());
            Sampler s = d == DType.I32 ? Sampler.integers(-50, 50) : p.opName().equals("sqrt") ? Sampler.uniform(0.1, 4) : Sampler.nonZero(0.1, 4);
            List<double[]> in = new ArrayList<>();
            for (Value v : g.inputs()) in.add(s.draw(r, 33));
            assertArrayEquals(Reference.run(g, in).getFirst(), Reference.run(spelled, in).getFirst(), 1e-12, p.opName() + " on " + d.label());
        }
    }

    @Test
    void aPrimitiveWithoutOneIsRefusedNamingThePlugin() {
        Graph g = oneNode(new Primitive.Unary(UnaryFn.ERF), DType.F32);
        UnsupportedPrimitiveException e = assertThrows(UnsupportedPrimitiveException.class,
                () -> Lowering.replaceUnsupported(g, q -> !(q instanceof Primitive.Unary u && u.fn() == UnaryFn.ERF), "vendor"));
        assertTrue(e.getMessage().startsWith("vendor declares erf unsupported"), e.getMessage());
    }

    private static Graph oneNode(Primitive p, DType d) {
        Graph.Builder b = Graph.builder();
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < (p instanceof Primitive.Unary ? 1 : 2); i++) in.add(b.input(TensorType.of(d, 33)));
        return b.build(b.apply(p, in));
    }
}
