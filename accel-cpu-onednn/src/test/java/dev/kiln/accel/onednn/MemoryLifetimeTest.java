package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Memory handed out by the plugin dies with it: a use after the accelerator closed is a Java exception, not a read of freed memory. */
class MemoryLifetimeTest {
    @Test void segmentsAndExecutablesFailInJavaOnceTheAcceleratorIsClosed() {
        OneDnnAccelerator acc = new OneDnnAccelerator(new AcceleratorConfig(0, 1));
        TensorType t = TensorType.of(DType.F32, 64);
        Buffer in = acc.upload(t, MemorySegment.ofArray(new float[64]));
        MemorySegment held = ((HostBuffer) in).segment(); // as a kernel holds it during a run
        Graph.Builder b = Graph.builder();
        Value x = b.input(t);
        Executable exe = acc.compile(b.build(List.of(b.unary(UnaryFn.EXP, x))), CompileOptions.defaults());
        List<Buffer> out = exe.run(List.of(in));
        assertEquals(1f, ((HostBuffer) out.getFirst()).segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0));
        acc.close();
        assertThrows(IllegalStateException.class, () -> held.getAtIndex(ValueLayout.JAVA_FLOAT, 0), "segment revoked with its accelerator");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> exe.run(List.of(in)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        in.close(); // freeing after the accelerator is still safe
        exe.close();
        out.getFirst().close();
    }
}
