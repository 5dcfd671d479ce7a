package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.core.DType;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * oneDNN splits a primitive's work for the thread count in force when the primitive is created,
 * so a compile must not inherit the one-thread cap a small primitive left on the compiling thread
 * (before, a CNN's evaluation and last-batch executables, compiled after training steps, had all
 * their convolutions created for one thread).
 */
class CreationThreadsTest {
    @Test void primitivesAreCreatedForTheEngineThreadCountAfterASmallOneRan() {
        try (OneDnnAccelerator acc = new OneDnnAccelerator(new AcceleratorConfig(0, 2))) {
            TensorType t = TensorType.of(DType.F32, 8, 8);
            Executable small = acc.compile(matmul(t), CompileOptions.defaults());
            Buffer a = acc.upload(t, MemorySegment.ofArray(new float[64]));
            small.run(List.of(a, a)).forEach(Buffer::close);
            assertEquals(1, acc.engine().threadsInForce(), "a small primitive runs on the calling thread alone");
            try (Executable next = acc.compile(matmul(TensorType.of(DType.F32, 512, 512)), CompileOptions.defaults())) {
                assertEquals(2, acc.engine().threadsInForce(), "primitives are created for the engine's thread count");
            }
            small.close();
            a.close();
        }
    }

    private static Graph matmul(TensorType t) {
        Graph.Builder b = Graph.builder();
        Value x = b.input(t), y = b.input(t);
        return b.build(List.of(b.matmul(x, y, false, false)));
    }
}
