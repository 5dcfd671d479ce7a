package dev.kiln.runtime.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.PrimitiveKind;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.UnsupportedPrimitiveException;
import dev.kiln.spi.ir.Value;
import dev.kiln.spi.ir.Window2d;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A plugin that declares primitives unsupported gets them spelled in others, or a clear refusal before its compile. */
class UnsupportedPrimitivesTest {
    /** Declares sigmoid and the forward convolution unsupported and keeps the graph it is asked to compile. */
    static final class Narrow implements Accelerator {
        Graph compiled;

        @Override public String name() { return "narrow"; }
        @Override public List<Device> devices() { return List.of(); }
        @Override public Capabilities capabilities() {
            return new Capabilities(Set.of(DType.F32), Set.of(), Set.of(PrecisionPolicy.FP32), false)
                    .withUnsupported(PrimitiveKind.of(UnaryFn.SIGMOID), PrimitiveKind.of(Primitive.Conv2d.class));
        }
        @Override public Buffer allocate(TensorType type) { throw new UnsupportedOperationException(); }
        @Override public Buffer upload(TensorType type, MemorySegment host) { throw new UnsupportedOperationException(); }
        @Override public void download(Buffer buffer, MemorySegment host) { throw new UnsupportedOperationException(); }
        @Override public Executable compile(Graph graph, CompileOptions options) {
            compiled = graph;
            return new Executable() {
                @Override public List<Buffer> run(List<Buffer> inputs) { return List.of(); }
                @Override public void close() {}
            };
        }
        @Override public void close() {}
    }

    @Test void anUnsupportedPrimitiveWithAFallbackReachesThePluginSpelledInOthers() {
        Narrow acc = new Narrow();
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 7));
        Graph g = b.build(List.of(b.unary(UnaryFn.SIGMOID, b.unary(UnaryFn.TANH, x))));
        try (GraphCompiler c = new GraphCompiler(acc, CompileOptions.defaults()); Executable e = c.compile(g)) {
            List<String> ops = acc.compiled.nodes().stream().map(n -> n.op().opName()).toList();
            assertTrue(ops.contains("tanh") && ops.contains("exp") && !ops.contains("sigmoid"), ops.toString());
            assertEquals(g.outputs().getFirst().type(), acc.compiled.outputs().getFirst().type());
        }
    }

    @Test void anUnsupportedPrimitiveWithoutOneIsRefusedBeforeThePluginCompiles() {
        Narrow acc = new Narrow();
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, 1, 3, 8, 8));
        Value w = b.input(TensorType.of(DType.F32, 4, 3, 3, 3));
        Graph g = b.build(List.of(b.apply1(new Primitive.Conv2d(Window2d.square(3, 1, 1), 1), x, w)));
        try (GraphCompiler c = new GraphCompiler(acc, CompileOptions.defaults())) {
            UnsupportedPrimitiveException e = assertThrows(UnsupportedPrimitiveException.class, () -> c.compile(g));
            assertTrue(e.getMessage().startsWith("narrow declares conv2d unsupported"), e.getMessage());
            assertTrue(e.getMessage().contains("f32[1, 3, 8, 8]") && e.getMessage().contains("choose another backend"), e.getMessage());
            Node n = e.node();
            assertTrue(n.op() instanceof Primitive.Conv2d, n.toString());
            assertNull(acc.compiled, "the plugin's compile never saw the graph");
        }
    }

    @Test void aKindNamesOneRecordAndMatchesOnlyItsFunction() {
        assertTrue(PrimitiveKind.of(UnaryFn.ERF).matches(new Primitive.Unary(UnaryFn.ERF)));
        assertTrue(!PrimitiveKind.of(UnaryFn.ERF).matches(new Primitive.Unary(UnaryFn.EXP)));
        assertTrue(PrimitiveKind.of(Primitive.Unary.class).matches(new Primitive.Unary(UnaryFn.EXP)));
        assertEquals("erf", PrimitiveKind.of(UnaryFn.ERF).toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PrimitiveKind.of(Primitive.class));
        assertTrue(e.getMessage().contains("one primitive record"), e.getMessage());
    }
}
