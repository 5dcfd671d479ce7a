package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A reshape into an intermediate runs as a view: its output uses its input's memory, so that
 * memory must outlive every reader of the view, and a donated input must not be overwritten in
 * place before the view's readers ran. Each test fails if the executable treats a view's readers
 * as not reading the memory it shows.
 */
class ReshapeViewTest {
    private static OneDnnAccelerator acc;

    @BeforeAll static void open() { acc = (OneDnnAccelerator) new OneDnnProvider().open(AcceleratorConfig.defaults()); }

    @AfterAll static void close() { acc.close(); }

    private static TensorType f32(int... dims) { return new TensorType(DType.F32, Shape.of(dims)); }

    /**
     * An SGD step updates p in place (its buffer is donated to p'); y = sum(reshape(p)) runs after
     * it and must see the old p, so p' may not be written into p's buffer before y ran.
     */
    @Test void viewOfADonatedInputIsReadBeforeTheInputIsUpdatedInPlace() {
        Graph.Builder b = Graph.builder();
        Value p = b.input(f32(2, 3)), g = b.input(f32(2, 3)), vel = b.input(f32(2, 3)), lr = b.input(f32());
        Value v = b.reshape(p, Shape.of(6));
        List<Value> step = b.apply(new Composite.SgdUpdate(0, false, 0), List.of(p, g, vel, lr));
        Value y = b.sum(v, List.of(0), false);
        for (CompileOptions options : List.of(CompileOptions.defaults(), CompileOptions.defaults().withFusion(false))) {
            try (Executable exe = acc.compile(b.build(List.of(step.get(0), step.get(1), y)), options);
                 Buffer pb = acc.upload(f32(2, 3), MemorySegment.ofArray(new float[] {1, 2, 3, 4, 5, 6}));
                 Buffer gb = acc.upload(f32(2, 3), MemorySegment.ofArray(new float[] {1, 1, 1, 1, 1, 1}));
                 Buffer vb = acc.upload(f32(2, 3), MemorySegment.ofArray(new float[6]));
                 Buffer lrb = acc.upload(f32(), MemorySegment.ofArray(new float[] {0.5f}));
                 Buffer yb = acc.allocate(f32())) {
                exe.run(List.of(pb, gb, vb, lrb), List.of(pb, vb, yb));
                assertEquals(21f, download(yb)[0], "sum of the old p, read through the view");
                assertArrayEquals(new float[] {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f}, download(pb));
            }
        }
    }

    /** exp(x) is read only through its view after other intermediates were made; its memory must not be reused by them. */
    @Test void viewKeepsAnIntermediateAliveUntilItsLastReader() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(4, 8));
        Value a = b.unary(UnaryFn.EXP, x);
        Value v = b.reshape(a, Shape.of(32));
        Value n = b.unary(UnaryFn.NEG, x);
        Value c = b.mul(n, n);
        Value d = b.add(c, n);
        Value y = b.add(v, b.reshape(d, Shape.of(32)));
        float[] x0 = new float[32];
        for (int i = 0; i < x0.length; i++) x0[i] = (i - 16) / 8f;
        try (Executable exe = acc.compile(b.build(List.of(y)), CompileOptions.defaults().withFusion(false));
             Buffer xb = acc.upload(f32(4, 8), MemorySegment.ofArray(x0))) {
            List<Buffer> out = exe.run(List.of(xb));
            float[] got = download(out.getFirst());
            for (int i = 0; i < x0.length; i++) {
                double want = Math.exp(x0[i]) + x0[i] * (double) x0[i] - x0[i];
                assertEquals(want, got[i], 1e-5 * Math.max(1, Math.abs(want)), "element " + i);
            }
            out.forEach(Buffer::close);
        }
    }

    /**
     * p' = transpose(view of p), donated into p's buffer: the transpose reads p through a view and
     * is not elementwise, so it must not write p' into p's buffer while it still reads p.
     */
    @Test void aTransposeReadingADonatedInputThroughAViewIsNotRunInPlace() {
        int n = 64;
        Graph.Builder b = Graph.builder();
        Value p = b.input(f32(n, n));
        Value v = b.reshape(b.reshape(p, Shape.of(n * n)), Shape.of(n, n));
        Value next = b.apply1(new Primitive.Permute(List.of(1, 0)), v);
        float[] p0 = new float[n * n];
        for (int i = 0; i < p0.length; i++) p0[i] = i;
        try (Executable exe = acc.compile(b.build(List.of(next)), CompileOptions.defaults());
             Buffer pb = acc.upload(f32(n, n), MemorySegment.ofArray(p0.clone()))) {
            exe.run(List.of(pb), List.of(pb));
            float[] got = download(pb);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) assertEquals(p0[j * n + i], got[i * n + j], "p'[" + i + ", " + j + "] = p[" + j + ", " + i + "]");
            }
        }
    }

    /** A reshape that is a graph output is copied into the caller's buffer, not aliased. */
    @Test void reshapeIntoAGraphOutputIsCopied() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(2, 2));
        Value r = b.reshape(x, Shape.of(4));
        try (Executable exe = acc.compile(b.build(List.of(r)), CompileOptions.defaults());
             Buffer xb = acc.upload(f32(2, 2), MemorySegment.ofArray(new float[] {1, 2, 3, 4}));
             Buffer rb = acc.allocate(f32(4))) {
            exe.run(List.of(xb), List.of(rb));
            assertArrayEquals(new float[] {1, 2, 3, 4}, download(rb));
        }
    }

    private static float[] download(Buffer b) {
        MemorySegment host = Arena.ofAuto().allocate(Math.max(4, b.type().byteSize()), 8).asSlice(0, b.type().byteSize());
        acc.download(b, host);
        return host.toArray(ValueLayout.JAVA_FLOAT);
    }
}
