package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A contiguous slice runs as a view, and a concat of intermediates along its outermost axis is
 * not run at all: the producers of its inputs write into their windows of its output. That is
 * how data-parallel gradient buckets are filled and read without a copy. Each test fails if the
 * executable lets a window be overwritten while it is still read, or reads a window before it
 * was written; each is compared with the same values computed here in float64.
 */
class SliceConcatPlacementTest {
    private static OneDnnAccelerator acc;
    private static final List<CompileOptions> OPTIONS = List.of(CompileOptions.defaults(), CompileOptions.defaults().withFusion(false));

    @BeforeAll static void open() { acc = (OneDnnAccelerator) new OneDnnProvider().open(AcceleratorConfig.defaults()); }

    @AfterAll static void close() { acc.close(); }

    /** exp(x) and -y laid end to end: no arena at all, only the caller's output buffer. */
    @Test void concatOfIntermediatesIsWrittenInPlace() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(6)), y = b.input(f32(5));
        Value c = concat(b, b.reshape(b.reshape(b.unary(UnaryFn.EXP, x), Shape.of(2, 3)), Shape.of(6)), b.unary(UnaryFn.NEG, y));
        float[] x0 = random(6, 1), y0 = random(5, 2);
        try (Executable exe = acc.compile(b.build(List.of(c)), CompileOptions.defaults().withFusion(false))) {
            assertEquals(f32(11).byteSize(), exe.memoryBytes(), "the parts live in the output: no arena");
            float[] got = run(exe, List.of(f32(11)), x0, y0).getFirst();
            assertClose(concat(exp(x0), neg(y0)), got, "concat(exp(x), -y)");
        }
    }

    /** The concat's output is an intermediate read later, and one part is also read after the concat. */
    @Test void placedConcatIntoAnIntermediateKeepsItsPartsAlive() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(8)), y = b.input(f32(4));
        Value ex = b.unary(UnaryFn.EXP, x), ny = b.unary(UnaryFn.NEG, y);
        Value c = concat(b, ex, ny);
        Value sq = b.mul(c, c);
        Value noise = b.mul(b.unary(UnaryFn.EXP, b.unary(UnaryFn.NEG, c)), c); // more intermediates competing for the arena
        Value out = b.add(sq, noise);
        Value late = b.add(ny, ny);
        for (CompileOptions o : OPTIONS) {
            float[] x0 = random(8, 3), y0 = random(4, 4);
            try (Executable exe = acc.compile(b.build(List.of(out, late)), o)) {
                List<float[]> got = run(exe, List.of(f32(12), f32(4)), x0, y0);
                double[] cc = concat(exp(x0), neg(y0)), want = new double[12];
                for (int i = 0; i < 12; i++) want[i] = cc[i] * cc[i] + Math.exp(-cc[i]) * cc[i];
                assertClose(want, got.get(0), "c*c + exp(-c)*c with " + o);
                double[] twice = neg(y0);
                for (int i = 0; i < 4; i++) twice[i] *= 2;
                assertClose(twice, got.get(1), "-2y read after the concat with " + o);
            }
        }
    }

    /** Graph inputs, graph outputs and a part named twice cannot be written in place; the concat copies them. */
    @Test void partsThatAreInputsOutputsOrRepeatedAreCopied() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(3)), y = b.input(f32(3));
        Value ey = b.unary(UnaryFn.EXP, y), nx = b.unary(UnaryFn.NEG, x);
        Value c = concat(b, x, ey, nx, nx);
        float[] x0 = random(3, 5), y0 = random(3, 6);
        try (Executable exe = acc.compile(b.build(List.of(c, ey)), CompileOptions.defaults().withFusion(false))) {
            List<float[]> got = run(exe, List.of(f32(12), f32(3)), x0, y0);
            assertClose(concat(concat(toDouble(x0), exp(y0)), concat(neg(x0), neg(x0))), got.get(0), "concat(x, exp(y), -x, -x)");
            assertClose(exp(y0), got.get(1), "exp(y)");
        }
    }

    /**
     * The concat's output buffer is donated from the input its parts are computed from: writing
     * the first part in place before the second slice is read would corrupt it, so the output is
     * staged.
     */
    @Test void concatIntoTheDonatedBufferItsPartsReadIsStaged() {
        Graph.Builder b = Graph.builder();
        Value r = b.input(f32(8));
        Value lo = slice(b, r, 0, 4), hi = slice(b, r, 4, 8);
        Value c = concat(b, b.unary(UnaryFn.EXP, hi), b.unary(UnaryFn.NEG, lo));
        float[] r0 = random(8, 7);
        for (CompileOptions o : OPTIONS) {
            try (Executable exe = acc.compile(b.build(List.of(c)), o);
                 Buffer rb = acc.upload(f32(8), MemorySegment.ofArray(r0.clone()))) {
                exe.run(List.of(rb), List.of(rb));
                double[] rd = toDouble(r0);
                double[] want = concat(exp(java.util.Arrays.copyOfRange(r0, 4, 8)), neg(java.util.Arrays.copyOfRange(r0, 0, 4)));
                assertClose(want, download(rb), "concat(exp(r[4:8]), -r[0:4]) into r's own buffer with " + o + " from " + java.util.Arrays.toString(rd));
            }
        }
    }

    /** A slice of a leading range is a view (no arena); a slice along an inner axis is copied. */
    @Test void contiguousSliceIsAViewAndAStridedSliceIsCopied() {
        float[] r0 = random(10, 8);
        Graph.Builder b = Graph.builder();
        Value r = b.input(f32(10));
        Value mid = slice(b, b.reshape(b.reshape(r, Shape.of(2, 5)), Shape.of(10)), 2, 7);
        try (Executable exe = acc.compile(b.build(List.of(b.unary(UnaryFn.EXP, mid))), CompileOptions.defaults().withFusion(false))) {
            assertEquals(f32(5).byteSize(), exe.memoryBytes(), "the slice is a window of the input: no arena");
            assertClose(exp(java.util.Arrays.copyOfRange(r0, 2, 7)), run(exe, List.of(f32(5)), r0).getFirst(), "exp(r[2:7])");
        }
        b = Graph.builder();
        Value cols = b.apply1(new Primitive.Slice(1, 1, 3), b.reshape(b.input(f32(10)), Shape.of(2, 5)));
        try (Executable exe = acc.compile(b.build(List.of(b.unary(UnaryFn.NEG, cols))), CompileOptions.defaults().withFusion(false))) {
            float[] got = run(exe, List.of(f32(2, 2)), r0).getFirst();
            assertClose(new double[] {-r0[1], -r0[2], -r0[6], -r0[7]}, got, "-r[:, 1:3]");
        }
    }

    /** A concat placed into a later concat passes its window on: both levels are written in place. */
    @Test void nestedConcatsAreWrittenInPlace() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(3)), y = b.input(f32(2)), z = b.input(f32(4));
        Value inner = concat(b, b.unary(UnaryFn.EXP, x), b.unary(UnaryFn.NEG, y));
        Value outer = concat(b, b.unary(UnaryFn.NEG, z), inner);
        float[] x0 = random(3, 9), y0 = random(2, 10), z0 = random(4, 11);
        try (Executable exe = acc.compile(b.build(List.of(outer)), CompileOptions.defaults().withFusion(false))) {
            assertEquals(f32(9).byteSize(), exe.memoryBytes(), "every part lives in the output: no arena");
            assertClose(concat(neg(z0), concat(exp(x0), neg(y0))), run(exe, List.of(f32(9)), x0, y0, z0).getFirst(), "concat(-z, concat(exp(x), -y))");
        }
    }

    /** The graph runs many times: windows cut from the caller's buffers follow them when they change. */
    @Test void windowsFollowTheCallersBuffersFromRunToRun() {
        Graph.Builder b = Graph.builder();
        Value x = b.input(f32(6));
        Value c = concat(b, b.unary(UnaryFn.EXP, slice(b, x, 0, 3)), b.unary(UnaryFn.NEG, slice(b, x, 3, 6)));
        try (Executable exe = acc.compile(b.build(List.of(c)), CompileOptions.defaults().withFusion(false))) {
            for (int run = 0; run < 3; run++) {
                float[] x0 = random(6, 20 + run);
                double[] want = concat(exp(java.util.Arrays.copyOfRange(x0, 0, 3)), neg(java.util.Arrays.copyOfRange(x0, 3, 6)));
                assertClose(want, run(exe, List.of(f32(6)), x0).getFirst(), "run " + run);
            }
        }
    }

    private static Value concat(Graph.Builder b, Value... parts) { return b.apply1(new Primitive.Concat(0), parts); }

    private static Value slice(Graph.Builder b, Value x, int start, int end) { return b.apply1(new Primitive.Slice(0, start, end), x); }

    private static TensorType f32(int... dims) { return new TensorType(DType.F32, Shape.of(dims)); }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian());
        return v;
    }

    /** Runs with fresh output buffers (filled with NaN, so an unwritten element shows), one per {@code outputs}. */
    private static List<float[]> run(Executable exe, List<TensorType> outputs, float[]... inputs) {
        List<Buffer> in = new java.util.ArrayList<>(), out = new java.util.ArrayList<>();
        try {
            for (float[] v : inputs) in.add(acc.upload(f32(v.length), MemorySegment.ofArray(v)));
            for (TensorType t : outputs) {
                float[] nan = new float[Math.toIntExact(t.shape().size())];
                java.util.Arrays.fill(nan, Float.NaN);
                out.add(acc.upload(t, MemorySegment.ofArray(nan)));
            }
            exe.run(in, out);
            return out.stream().map(SliceConcatPlacementTest::download).toList();
        } finally {
            in.forEach(Buffer::close);
            out.forEach(Buffer::close);
        }
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    private static double[] exp(float[] v) {
        double[] d = toDouble(v);
        for (int i = 0; i < d.length; i++) d[i] = Math.exp(d[i]);
        return d;
    }

    private static double[] neg(float[] v) {
        double[] d = toDouble(v);
        for (int i = 0; i < d.length; i++) d[i] = -d[i];
        return d;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Within 1e-6 relative: oneDNN's exp is within a few float32 ulps. */
    private static void assertClose(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-6 * Math.max(1, Math.abs(want[i])), what + ": element " + i);
    }

    private static float[] download(Buffer b) {
        MemorySegment host = Arena.ofAuto().allocate(Math.max(4, b.type().byteSize()), 8).asSlice(0, b.type().byteSize());
        acc.download(b, host);
        return host.toArray(ValueLayout.JAVA_FLOAT);
    }
}
