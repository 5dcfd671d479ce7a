package dev.kiln.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A constant buffer (Accelerator.uploadConstant) of a KernelAccelerator is read like any other and never written. */
class ConstantBufferTest {
    private static final TensorType T = TensorType.of(DType.F32, 2, 3);
    private static final double[] DATA = {1, -2, 3, -4, 5, -6};

    @Test void aConstantIsReadButRefusesCopyInAndBeingAnOutput() {
        try (ToyAccelerator acc = new ToyAccelerator(ToyAccelerator.Variant.FAITHFUL)) {
            Buffer c = acc.uploadConstant(T, HostData.write(DATA, T));
            assertTrue(((HostBuffer) c).isConstant());
            assertTrue(((HostBuffer) c).segment().isReadOnly(), "Java writes through the segment fail");
            assertFalse(((HostBuffer) acc.upload(T, HostData.write(DATA, T))).isConstant());
            assertArrayEquals(DATA, HostData.download(acc, c));

            Graph.Builder b = Graph.builder();
            Value x = b.input(T);
            Graph g = b.build(List.of(b.unary(UnaryFn.ABS, x)));
            try (Executable e = acc.compile(g, CompileOptions.defaults())) {
                assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, HostData.download(acc, e.run(List.of(c)).getFirst()), "read as an input");
                var asOutput = assertThrows(IllegalArgumentException.class, () -> e.run(List.of(c), List.of(c)));
                assertTrue(asOutput.getMessage().contains("output 0") && asOutput.getMessage().contains("constant"), asOutput.getMessage());
            }
            var copyIn = assertThrows(IllegalArgumentException.class, () -> acc.copyIn(HostData.write(new double[6], T), c));
            assertTrue(copyIn.getMessage().contains("copyIn") && copyIn.getMessage().contains("constant"), copyIn.getMessage());
            assertArrayEquals(DATA, HostData.download(acc, c), "unchanged");
        }
    }
}
