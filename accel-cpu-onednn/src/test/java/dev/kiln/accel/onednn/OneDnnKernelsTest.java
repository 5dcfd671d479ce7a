package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kernels against plain Java loops in double precision on random inputs.
 *
 * <p>Tolerance for f32 results: {@code |got - want| <= 1e-5 * scale}, where {@code scale} is
 * {@code max(|want|, 1)} for elementwise ops and, for sums (matmul, reduce, softmax's
 * denominator), the sum of the absolute values of the terms, so cancellation does not turn
 * float rounding into a large relative error. Integer and bool results must match exactly.
 */
class OneDnnKernelsTest {
    private static final double TOL = 1e-5;
    private static OneDnnAccelerator acc;
    private final Random random = new Random(42);

    @BeforeAll static void open() { acc = (OneDnnAccelerator) new OneDnnProvider().open(AcceleratorConfig.defaults()); }

    @AfterAll static void close() { acc.close(); }

    // ---- contraction -------------------------------------------------------------------------

    @Test void matmulAllTransposes() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int m = 5, k = 7, n = 3;
                Shape sa = ta ? Shape.of(k, m) : Shape.of(m, k), sb = tb ? Shape.of(n, k) : Shape.of(k, n);
                float[] a = rand(sa), b = rand(sb);
                float[] got = runF32(new Primitive.MatMul(ta, tb), List.of(f32(sa), f32(sb)), a, b);
                checkMatmul(a, b, got, 1, m, k, n, ta, tb);
            }
        }
    }

    /**
     * Weight-gradient shapes with a short batch axis: oneDNN's AVX-512 brgemm declines them as
     * small shapes, so on an AVX-512 CPU {@link OneDnnTuner} times the alternatives and may pick
     * another implementation. Whatever it picks must compute the product.
     */
    @Test void tunedSmallBatchWeightGradients() {
        for (int k : new int[] {1, 7, 32}) {
            int m = 128, n = 784;
            Shape sa = Shape.of(k, m), sb = Shape.of(k, n);
            float[] a = rand(sa), b = rand(sb);
            float[] got = runF32(new Primitive.MatMul(true, false), List.of(f32(sa), f32(sb)), a, b);
            checkMatmul(a, b, got, 1, m, k, n, true, false);
        }
    }

    /** The chain's branch-free comparison is Java's {@code >} on every pair of special values and on random ones. */
    @Test void chainComparisonIsIeeeGreaterThan() {
        float[] special = {Float.NaN, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE,
                Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f, Math.nextUp(1f), Math.nextDown(1f), 3e38f, -3e38f};
        for (float x : special) {
            for (float y : special) assertEquals(x > y ? 1 : 0, JavaChain.greater(x, y), x + " > " + y);
        }
        for (int i = 0; i < 100_000; i++) {
            float x = Float.intBitsToFloat(random.nextInt()), y = random.nextBoolean() ? Float.intBitsToFloat(random.nextInt()) : x;
            assertEquals(x > y ? 1 : 0, JavaChain.greater(x, y), x + " > " + y);
        }
    }

    /** The chain's relu keeps NaN and sends -0 to +0, bit for bit what relu(x) = x > 0 ? x : 0 (NaN kept) gives. */
    @Test void chainReluOnSpecialValues() {
        float[] x = {Float.NaN, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f};
        Shape s = Shape.of(x.length);
        ChainExpr relu = new ChainExpr.Un(UnaryFn.RELU, new ChainExpr.In(0));
        FusedOps.Chain op = new FusedOps.Chain(relu, List.of(ChainExpr.Layout.DENSE), f32(s), null);
        MemorySegment in = seg(x), out = Arena.ofAuto().allocate(x.length * 4L, 64);
        new JavaChain(op, List.of(DType.F32)).run(new MemorySegment[] {in}, new MemorySegment[] {out});
        for (int i = 0; i < x.length; i++) {
            float want = x[i] > 0 ? x[i] : (Float.isNaN(x[i]) ? x[i] : 0f);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(out.getAtIndex(ValueLayout.JAVA_FLOAT, i)), "relu(" + x[i] + ")");
        }
    }

    @Test void matmulRank3() {
        int batch = 4, m = 6, k = 9, n = 5;
        Shape sa = Shape.of(batch, m, k), sb = Shape.of(batch, n, k);
        float[] a = rand(sa), b = rand(sb);
        float[] got = runF32(new Primitive.MatMul(false, true), List.of(f32(sa), f32(sb)), a, b);
        checkMatmul(a, b, got, batch, m, k, n, false, true);
    }

    @Test void matmulF64RunsInJava() {
        Shape sa = Shape.of(3, 4), sb = Shape.of(2, 4);
        double[] a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, b = {1, 0, 0, 1, 0, 1, 1, 0};
        MemorySegment out = run(new Primitive.MatMul(false, true), List.of(new TensorType(DType.F64, sa), new TensorType(DType.F64, sb)),
                seg(a), seg(b)).getFirst();
        assertArrayEquals(new double[] {5, 5, 13, 13, 21, 21}, out.toArray(ValueLayout.JAVA_DOUBLE));
    }

    @Test void halfPrecisionMatmulAndSoftmaxRunInJava() {
        for (DType d : new DType[] {DType.BF16, DType.F16}) {
            TensorType t = new TensorType(d, Shape.of(2, 2));
            MemorySegment a = cast(seg(new float[] {1, 2, 3, 4}), DType.F32, d, t.shape());
            MemorySegment eye = cast(seg(new float[] {1, 0, 0, 1}), DType.F32, d, t.shape());
            MemorySegment p = run(new Primitive.MatMul(false, false), List.of(t, t), a, eye).getFirst();
            assertArrayEquals(new float[] {1, 2, 3, 4}, cast(p, d, DType.F32, t.shape()).toArray(ValueLayout.JAVA_FLOAT), d.label());
            MemorySegment sm = run(new Composite.Softmax(1), List.of(t), a).getFirst();
            float[] got = cast(sm, d, DType.F32, t.shape()).toArray(ValueLayout.JAVA_FLOAT);
            assertEquals(1 / (1 + Math.exp(1)), got[0], 1e-2, d.label());
            assertEquals(1, got[0] + got[1], 1e-2, d.label());
        }
    }

    @Test void linearWithReluIsFused() {
        int n = 8, in = 10, o = 4;
        float[] x = rand(Shape.of(n, in)), w = rand(Shape.of(o, in)), bias = rand(Shape.of(o));
        float[] got = runF32(new Composite.Linear(Composite.Activation.RELU),
                List.of(f32(Shape.of(n, in)), f32(Shape.of(o, in)), f32(Shape.of(o))), x, w, bias);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < o; j++) {
                double z = bias[j], scale = Math.abs(bias[j]);
                for (int p = 0; p < in; p++) {
                    z += (double) x[i * in + p] * w[j * in + p];
                    scale += Math.abs((double) x[i * in + p] * w[j * in + p]);
                }
                close(Math.max(z, 0), got[i * o + j], scale);
            }
        }
    }

    // ---- elementwise -------------------------------------------------------------------------

    @ParameterizedTest @EnumSource(UnaryFn.class) void unary(UnaryFn fn) {
        Shape s = Shape.of(3, 17);
        float[] x = rand(s);
        if (fn == UnaryFn.LOG || fn == UnaryFn.SQRT) for (int i = 0; i < x.length; i++) x[i] = Math.abs(x[i]) + 0.1f;
        float[] got = runF32(new Primitive.Unary(fn), List.of(f32(s)), x);
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            double want = switch (fn) {
                case NEG -> -v;
                case EXP -> Math.exp(v);
                case LOG -> Math.log(v);
                case SQRT -> Math.sqrt(v);
                case TANH -> Math.tanh(v);
                case SIGMOID -> 1 / (1 + Math.exp(-v));
                case RELU -> Math.max(v, 0);
                case ABS -> Math.abs(v);
                case GELU -> UnaryFn.gelu(v);
                case ERF -> UnaryFn.erf(v);
            };
            close(want, got[i], Math.max(Math.abs(want), 1));
        }
    }

    @Test void fillAndIotaOfAnEmptyShapeGiveEmptyResults() {
        // What a causal attention mask over an empty sequence needs.
        Shape empty = Shape.of(2, 0, 8);
        assertEquals(0, run(new Primitive.Fill(1, f32(empty)), List.of()).getFirst().byteSize());
        assertEquals(0, run(new Primitive.Iota(1, f32(empty)), List.of()).getFirst().byteSize());
        assertEquals(0, runF32(new Primitive.Binary(BinaryFn.ADD), List.of(f32(empty), f32(empty)), new float[0], new float[0]).length);
    }

    @Test void broadcastingAdd() {
        Shape sa = Shape.of(4, 1, 6), sb = Shape.of(3, 1);
        float[] a = rand(sa), b = rand(sb);
        float[] got = runF32(new Primitive.Binary(BinaryFn.ADD), List.of(f32(sa), f32(sb)), a, b);
        for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 6; k++) {
            double want = (double) a[i * 6 + k] + b[j];
            close(want, got[(i * 3 + j) * 6 + k], Math.max(Math.abs(want), 1));
        }
    }

    @Test void subtractFromBroadcastFirstOperand() {
        Shape sa = Shape.of(6), sb = Shape.of(4, 6);
        float[] a = rand(sa), b = rand(sb);
        float[] got = runF32(new Primitive.Binary(BinaryFn.SUB), List.of(f32(sa), f32(sb)), a, b);
        for (int i = 0; i < 24; i++) close((double) a[i % 6] - b[i], got[i], 1);
    }

    @Test void comparisonsProduceBools() {
        Shape s = Shape.of(5);
        float[] a = {1, 2, 3, 4, 5}, b = {3};
        MemorySegment gt = run(new Primitive.Binary(BinaryFn.GT), List.of(f32(s), f32(Shape.scalar())), seg(a), seg(b)).getFirst();
        assertArrayEquals(new byte[] {0, 0, 0, 1, 1}, gt.toArray(ValueLayout.JAVA_BYTE));
    }

    // ---- reduce and softmax ------------------------------------------------------------------

    @Test void reduceSumAndMax() {
        Shape s = Shape.of(3, 4, 5);
        float[] x = rand(s);
        float[] sum = runF32(new Primitive.Reduce(ReduceFn.SUM, List.of(0, 2), false), List.of(f32(s)), x);
        float[] max = runF32(new Primitive.Reduce(ReduceFn.MAX, List.of(1), true), List.of(f32(s)), x);
        for (int j = 0; j < 4; j++) {
            double want = 0, scale = 0;
            for (int i = 0; i < 3; i++) for (int k = 0; k < 5; k++) {
                want += x[(i * 4 + j) * 5 + k];
                scale += Math.abs(x[(i * 4 + j) * 5 + k]);
            }
            close(want, sum[j], scale);
        }
        for (int i = 0; i < 3; i++) for (int k = 0; k < 5; k++) {
            double want = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < 4; j++) want = Math.max(want, x[(i * 4 + j) * 5 + k]);
            assertEquals((float) want, max[i * 5 + k]);
        }
    }

    @Test void batchSumOverLeadingAxis() {
        Shape s = Shape.of(6, 9);
        float[] x = rand(s);
        float[] sum = runF32(new Primitive.Reduce(ReduceFn.SUM, List.of(0), false), List.of(f32(s)), x);
        for (int j = 0; j < 9; j++) {
            double want = 0, scale = 0;
            for (int i = 0; i < 6; i++) {
                want += x[i * 9 + j];
                scale += Math.abs(x[i * 9 + j]);
            }
            close(want, sum[j], scale);
        }
    }

    @Test void reduceI64RunsInJava() {
        Shape s = Shape.of(2, 3);
        MemorySegment out = run(new Primitive.Reduce(ReduceFn.SUM, List.of(1), false), List.of(new TensorType(DType.I64, s)),
                seg(new long[] {1, 2, 3, 4, 5, 6})).getFirst();
        assertArrayEquals(new long[] {6, 15}, out.toArray(ValueLayout.JAVA_LONG));
    }

    @Test void softmaxAndLogSoftmax() {
        Shape s = Shape.of(6, 10);
        float[] x = rand(s);
        for (int axis = 0; axis < 2; axis++) {
            float[] p = runF32(new Composite.Softmax(axis), List.of(f32(s)), x);
            float[] lp = runF32(new Composite.LogSoftmax(axis), List.of(f32(s)), x);
            double[] want = softmax(x, 6, 10, axis);
            for (int i = 0; i < x.length; i++) {
                close(want[i], p[i], Math.max(want[i], 1));
                close(Math.log(want[i]), lp[i], Math.max(Math.abs(Math.log(want[i])), 1));
            }
        }
    }

    @Test void softmaxF64FallsBackToDecomposition() {
        Shape s = Shape.of(2, 3);
        double[] x = {1, 2, 3, -1, 0, 1};
        MemorySegment out = run(new Composite.Softmax(1), List.of(new TensorType(DType.F64, s)), seg(x)).getFirst();
        double[] got = out.toArray(ValueLayout.JAVA_DOUBLE);
        double e = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(Math.exp(3) / e, got[2], 1e-12);
        assertEquals(Math.exp(3) / e, got[5], 1e-12);
    }

    // ---- types, movement, indexing, sources ---------------------------------------------------

    @Test void castTruncatesTowardZeroAndBoolsAreZeroOrOne() {
        Shape s = Shape.of(6);
        float[] x = {-2.7f, -0.5f, 0f, 0.5f, 2.7f, 300f};
        MemorySegment in = seg(x);
        assertArrayEquals(new int[] {-2, 0, 0, 0, 2, 300}, cast(in, DType.F32, DType.I32, s).toArray(ValueLayout.JAVA_INT));
        assertArrayEquals(new long[] {-2, 0, 0, 0, 2, 300}, cast(in, DType.F32, DType.I64, s).toArray(ValueLayout.JAVA_LONG));
        assertArrayEquals(new byte[] {1, 1, 0, 1, 1, 1}, cast(in, DType.F32, DType.BOOL, s).toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(new byte[] {-2, 0, 0, 0, 2, 44}, cast(in, DType.F32, DType.I8, s).toArray(ValueLayout.JAVA_BYTE));
        MemorySegment bools = seg(new byte[] {0, 1, 1, 0, 0, 1});
        assertArrayEquals(new double[] {0, 1, 1, 0, 0, 1}, cast(bools, DType.BOOL, DType.F64, s).toArray(ValueLayout.JAVA_DOUBLE));
        MemorySegment longs = seg(new long[] {-3, 0, 7, 1 << 20, 5, -1});
        assertArrayEquals(new float[] {-3, 0, 7, 1 << 20, 5, -1}, cast(longs, DType.I64, DType.F32, s).toArray(ValueLayout.JAVA_FLOAT));
        MemorySegment bytes = seg(new byte[] {-128, -1, 0, 1, 2, 127});
        assertArrayEquals(new int[] {-128, -1, 0, 1, 2, 127}, cast(bytes, DType.I8, DType.I32, s).toArray(ValueLayout.JAVA_INT));
    }

    @Test void gatherAlongEachAxis() {
        Shape s = Shape.of(4, 3);
        float[] x = rand(s);
        float[] rows = runF32(new Primitive.Gather(0), List.of(f32(s), TensorType.of(DType.I64, 2, 2)), x, seg(new long[] {3, 0, 3, 1}));
        int[] pick = {3, 0, 3, 1};
        for (int k = 0; k < 4; k++) for (int j = 0; j < 3; j++) assertEquals(x[pick[k] * 3 + j], rows[k * 3 + j]);
        float[] cols = runF32(new Primitive.Gather(1), List.of(f32(s), TensorType.of(DType.I32, 2)), x, seg(new int[] {2, 0}));
        for (int i = 0; i < 4; i++) {
            assertEquals(x[i * 3 + 2], cols[i * 2]);
            assertEquals(x[i * 3], cols[i * 2 + 1]);
        }
    }

    @Test void gatherRejectsOutOfRangeIndices() {
        Shape s = Shape.of(4, 3);
        var e = assertThrows(IndexOutOfBoundsException.class,
                () -> runF32(new Primitive.Gather(0), List.of(f32(s), TensorType.of(DType.I32, 1)), rand(s), seg(new int[] {4})));
        assertTrue(e.getMessage().contains("gather"), e.getMessage());
    }

    @Test void scatterAddAccumulatesRepeatedIndices() {
        Shape target = Shape.of(3, 2);
        float[] upd = {1, 2, 3, 4, 5, 6};
        float[] got = runF32(new Primitive.ScatterAdd(0, target), List.of(TensorType.of(DType.I32, 3), f32(Shape.of(3, 2))),
                seg(new int[] {2, 0, 2}), upd);
        assertArrayEquals(new float[] {3, 4, 0, 0, 6, 8}, got);
    }

    @Test void permuteMatchesIndexing() {
        Shape s = Shape.of(2, 3, 4);
        float[] x = rand(s);
        float[] got = runF32(new Primitive.Permute(List.of(2, 0, 1)), List.of(f32(s)), x);
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) {
            assertEquals(x[(i * 3 + j) * 4 + k], got[(k * 2 + i) * 3 + j]);
        }
        MemorySegment d = run(new Primitive.Permute(List.of(1, 0)), List.of(TensorType.of(DType.F64, 2, 2)), seg(new double[] {1, 2, 3, 4})).getFirst();
        assertArrayEquals(new double[] {1, 3, 2, 4}, d.toArray(ValueLayout.JAVA_DOUBLE));
    }

    @Test void randomUniformIsTheSharedStream() {
        TensorType t = f32(Shape.of(100));
        float[] got = runF32(new Primitive.RandomUniform(t), List.of(TensorType.of(DType.I64)), seg(new long[] {1234L}));
        for (int i = 0; i < 100; i++) assertEquals(Primitive.RandomUniform.sample(1234L, i), got[i]);
    }

    @Test void f32HotPathsRunOnOneDnn() {
        TensorType m = f32(Shape.of(4, 8)), row = f32(Shape.of(8));
        assertTrue(kernel(new Primitive.MatMul(false, true), m, m) instanceof OneDnnPrimitive);
        assertTrue(kernel(new Primitive.Binary(BinaryFn.ADD), m, row) instanceof OneDnnPrimitive);
        assertTrue(kernel(new Primitive.Binary(BinaryFn.MUL), row, m) instanceof OneDnnPrimitive, "commuting ops swap a broadcast first operand");
        assertTrue(kernel(new Primitive.Unary(UnaryFn.RELU), m) instanceof OneDnnPrimitive);
        assertTrue(kernel(new Primitive.Reduce(ReduceFn.SUM, List.of(1), false), m) instanceof OneDnnPrimitive);
        assertTrue(!(kernel(new Primitive.Reduce(ReduceFn.SUM, List.of(0), false), m) instanceof OneDnnPrimitive),
                "oneDNN is slow reducing leading axes; whole rows are added in Java");
        assertTrue(kernel(new Primitive.Permute(List.of(1, 0)), m) instanceof OneDnnPrimitive);
        assertTrue(kernel(new Composite.LogSoftmax(1), m) instanceof OneDnnPrimitive);
        assertTrue(kernel(new Composite.Linear(Composite.Activation.TANH), m, m, f32(Shape.of(4))) instanceof OneDnnPrimitive);
        assertTrue(!(kernel(new Primitive.Binary(BinaryFn.SUB), row, m) instanceof OneDnnPrimitive), "oneDNN broadcasts only its second source");
    }

    // ---- helpers -----------------------------------------------------------------------------

    private void checkMatmul(float[] a, float[] b, float[] got, int batch, int m, int k, int n, boolean ta, boolean tb) {
        for (int t = 0; t < batch; t++) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            double want = 0, scale = 0;
            for (int p = 0; p < k; p++) {
                double av = a[t * m * k + (ta ? p * m + i : i * k + p)], bv = b[t * k * n + (tb ? j * k + p : p * n + j)];
                want += av * bv;
                scale += Math.abs(av * bv);
            }
            close(want, got[(t * m + i) * n + j], scale);
        }
    }

    private static double[] softmax(float[] x, int rows, int cols, int axis) {
        double[] out = new double[x.length];
        int outer = axis == 0 ? cols : rows, len = axis == 0 ? rows : cols;
        for (int o = 0; o < outer; o++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < len; i++) max = Math.max(max, x[index(o, i, axis, cols)]);
            for (int i = 0; i < len; i++) sum += Math.exp(x[index(o, i, axis, cols)] - max);
            for (int i = 0; i < len; i++) out[index(o, i, axis, cols)] = Math.exp(x[index(o, i, axis, cols)] - max) / sum;
        }
        return out;
    }

    private static int index(int o, int i, int axis, int cols) { return axis == 0 ? i * cols + o : o * cols + i; }

    private static void close(double want, float got, double scale) {
        double tol = TOL * scale;
        assertTrue(Math.abs(got - want) <= tol, () -> "want " + want + ", got " + got + " (tolerance " + tol + ")");
    }

    private MemorySegment cast(MemorySegment in, DType from, DType to, Shape s) {
        return run(new Primitive.Cast(to), List.of(new TensorType(from, s)), in).getFirst();
    }

    private float[] rand(Shape s) {
        float[] v = new float[(int) s.size()];
        for (int i = 0; i < v.length; i++) v[i] = random.nextFloat() * 4 - 2;
        return v;
    }

    private static TensorType f32(Shape s) { return new TensorType(DType.F32, s); }

    private static MemorySegment seg(float[] v) { return MemorySegment.ofArray(v); }

    private static MemorySegment seg(double[] v) { return MemorySegment.ofArray(v); }

    private static MemorySegment seg(int[] v) { return MemorySegment.ofArray(v); }

    private static MemorySegment seg(long[] v) { return MemorySegment.ofArray(v); }

    private static MemorySegment seg(byte[] v) { return MemorySegment.ofArray(v); }

    /** Runs {@code op} on inputs given as float arrays or segments and returns its f32 output. */
    private static float[] runF32(Op op, List<TensorType> types, Object... data) {
        MemorySegment[] in = new MemorySegment[data.length];
        for (int i = 0; i < data.length; i++) in[i] = data[i] instanceof float[] f ? seg(f) : (MemorySegment) data[i];
        return run(op, types, in).getFirst().toArray(ValueLayout.JAVA_FLOAT);
    }

    private static dev.kiln.spi.Kernel kernel(Op op, TensorType... types) {
        Graph.Builder b = Graph.builder();
        List<Value> in = java.util.Arrays.stream(types).map(b::input).toList();
        b.apply(op, in);
        return acc.kernel(b.nodes().getFirst(), CompileOptions.defaults());
    }

    /** Compiles a one-node graph, runs it on uploads of {@code data}, and downloads every output. */
    private static List<MemorySegment> run(Op op, List<TensorType> types, MemorySegment... data) {
        Graph.Builder b = Graph.builder();
        List<Value> in = types.stream().map(b::input).toList();
        List<Value> out = b.apply(op, in);
        List<MemorySegment> results = new ArrayList<>();
        try (Executable exe = acc.compile(b.build(out), CompileOptions.defaults())) {
            List<Buffer> ins = new ArrayList<>();
            for (int i = 0; i < data.length; i++) ins.add(acc.upload(types.get(i), data[i]));
            List<Buffer> outs = exe.run(ins);
            for (Buffer o : outs) {
                MemorySegment host = Arena.ofAuto().allocate(Math.max(1, o.type().byteSize()), 8).asSlice(0, o.type().byteSize());
                acc.download(o, host);
                results.add(host);
                o.close();
            }
            ins.forEach(Buffer::close);
        }
        return results;
    }
}
