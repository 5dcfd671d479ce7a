package dev.kiln.accel.xla.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.Availability;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hand-written StableHLO modules run by XLA's CPU compiler through TF's C API, against float64
 * references computed here. Skipped, with the reason, where the library cannot be loaded.
 *
 * <p>These run in the test JVM, not a child: no failure tried here aborts the process. A syntax
 * error, a verifier error, a version TF does not know, a missing {@code @main}, too few inputs, an
 * input type {@code @main} does not take and too many declared outputs all come back as a non-OK
 * {@code TF_Status}. The one mismatch TF does not catch, a declared output type that is not
 * {@code @main}'s (it reads past the end of the result's buffer), is refused in Java by
 * {@link MainSignature} before TF sees it, and {@link #declaredTypesMustBeMainsSignature} checks that.
 *
 * <p>Tolerances: f32 results within {@code 1e-5 * (1 + |reference|)} of the float64 reference (sums of
 * at most 32 products of values below 3: f32 rounding is ~1e-7 relative per step); f64, the integer
 * types, bool and the bf16/f16 cases, whose inputs are chosen so that every result is exact, are
 * compared exactly.
 */
class XlaCallModuleExecutorTest {
    @BeforeAll static void reportLibrary() { System.out.println("XLA through TensorFlow's C API: " + TfNative.availability()); }

    // Per test, not in @BeforeAll: Surefire counts a class aborted there as zero tests, not as skipped ones.
    @BeforeEach void requireLibrary() {
        Availability a = TfNative.availability();
        assumeTrue(a.available(), "TensorFlow's C API cannot be loaded here: " + a.reason());
    }

    private static TensorType f32(int... dims) { return TensorType.of(DType.F32, dims); }

    @Test void addAndMultiplyWithBroadcastInDim() {
        String text = """
                module @axpb {
                  func.func public @main(%x: tensor<2x3xf32>, %b: tensor<3xf32>, %s: tensor<f32>) -> tensor<2x3xf32> {
                    %bb = stablehlo.broadcast_in_dim %b, dims = [1] : (tensor<3xf32>) -> tensor<2x3xf32>
                    %ss = stablehlo.broadcast_in_dim %s, dims = [] : (tensor<f32>) -> tensor<2x3xf32>
                    %0 = stablehlo.add %x, %bb : tensor<2x3xf32>
                    %1 = stablehlo.multiply %0, %ss : tensor<2x3xf32>
                    return %1 : tensor<2x3xf32>
                  }
                }
                """;
        float[] x = {1, 2, 3, 4, 5, 6}, b = {0.5f, -1, 2}, s = {-1.5f};
        float[] out = new float[6];
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2, 3), f32(3), f32()), List.of(f32(2, 3)))) {
            ex.run(List.of(seg(x), seg(b), seg(s)), List.of(seg(out)));
        }
        double[] ref = new double[6];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) ref[i * 3 + j] = ((double) x[i * 3 + j] + b[j]) * s[0];
        assertClose(ref, out, "(x + b) * s");
    }

    @Test void dotGeneralOnNativeSegments() {
        String text = """
                module @dot {
                  func.func public @main(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>) -> tensor<2x4xf32> {
                    %0 = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
                    return %0 : tensor<2x4xf32>
                  }
                }
                """;
        Random r = new Random(1);
        float[] x = random(r, 6), w = random(r, 12);
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2, 3), f32(3, 4)), List.of(f32(2, 4)));
             Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(8 * 4);
            ex.run(List.of(arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), arena.allocateFrom(ValueLayout.JAVA_FLOAT, w)), List.of(out));
            assertClose(matmul(x, w, 2, 3, 4), out.toArray(ValueLayout.JAVA_FLOAT), "x @ w");
        }
    }

    @Test void reduceSum() {
        String text = """
                module @sum {
                  func.func public @main(%x: tensor<4x5xf32>) -> (tensor<4xf32>, tensor<f32>) {
                    %z = stablehlo.constant dense<0.0> : tensor<f32>
                    %rows = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [1] : (tensor<4x5xf32>, tensor<f32>) -> tensor<4xf32>
                    %all = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0, 1] : (tensor<4x5xf32>, tensor<f32>) -> tensor<f32>
                    return %rows, %all : tensor<4xf32>, tensor<f32>
                  }
                }
                """;
        float[] x = random(new Random(2), 20);
        float[] rows = new float[4], all = new float[1];
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(4, 5)), List.of(f32(4), f32()))) {
            ex.run(List.of(seg(x)), List.of(seg(rows), seg(all)));
        }
        double[] refRows = new double[4];
        double refAll = 0;
        for (int i = 0; i < 20; i++) {
            refRows[i / 5] += x[i];
            refAll += x[i];
        }
        assertClose(refRows, rows, "row sums");
        assertClose(new double[] {refAll}, all, "total");
    }

    /** relu(x @ w1 + b1) @ w2 + b2 and the sum of its elements; times the first run (XLA's compile) and later ones. */
    @Test void mlpForwardMatchesFloat64AndIsTimed() {
        int n = 8, in = 16, hidden = 32, out = 4;
        String text = """
                module @mlp {
                  func.func public @main(%x: tensor<8x16xf32>, %w1: tensor<16x32xf32>, %b1: tensor<32xf32>,
                                         %w2: tensor<32x4xf32>, %b2: tensor<4xf32>) -> (tensor<8x4xf32>, tensor<f32>) {
                    %0 = stablehlo.dot_general %x, %w1, contracting_dims = [1] x [0] : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
                    %1 = stablehlo.broadcast_in_dim %b1, dims = [1] : (tensor<32xf32>) -> tensor<8x32xf32>
                    %2 = stablehlo.add %0, %1 : tensor<8x32xf32>
                    %zero = stablehlo.constant dense<0.0> : tensor<8x32xf32>
                    %h = stablehlo.maximum %2, %zero : tensor<8x32xf32>
                    %3 = stablehlo.dot_general %h, %w2, contracting_dims = [1] x [0] : (tensor<8x32xf32>, tensor<32x4xf32>) -> tensor<8x4xf32>
                    %4 = stablehlo.broadcast_in_dim %b2, dims = [1] : (tensor<4xf32>) -> tensor<8x4xf32>
                    %y = stablehlo.add %3, %4 : tensor<8x4xf32>
                    %z = stablehlo.constant dense<0.0> : tensor<f32>
                    %s = stablehlo.reduce(%y init: %z) applies stablehlo.add across dimensions = [0, 1] : (tensor<8x4xf32>, tensor<f32>) -> tensor<f32>
                    return %y, %s : tensor<8x4xf32>, tensor<f32>
                  }
                }
                """;
        Random r = new Random(3);
        float[] x = random(r, n * in), w1 = random(r, in * hidden), b1 = random(r, hidden), w2 = random(r, hidden * out), b2 = random(r, out);
        float[] y = new float[n * out], sum = new float[1];
        List<MemorySegment> inputs = List.of(seg(x), seg(w1), seg(b1), seg(w2), seg(b2));
        List<MemorySegment> outputs = List.of(seg(y), seg(sum));
        long firstNanos;
        long[] steady = new long[200];
        try (var ex = XlaCallModuleExecutor.compile(text,
                List.of(f32(n, in), f32(in, hidden), f32(hidden), f32(hidden, out), f32(out)), List.of(f32(n, out), f32()))) {
            long t0 = System.nanoTime();
            ex.run(inputs, outputs);
            firstNanos = System.nanoTime() - t0;
            for (int i = 0; i < steady.length; i++) {
                t0 = System.nanoTime();
                ex.run(inputs, outputs);
                steady[i] = System.nanoTime() - t0;
            }
        }
        Arrays.sort(steady);
        System.out.printf(Locale.ROOT, "XLA MLP 8x16-32-4: first run %.1f ms (XLA compiles it; XLA's own start-up may have been paid by an earlier test);"
                        + " steady-state median %.1f us, p90 %.1f us over %d runs%n",
                firstNanos / 1e6, steady[steady.length / 2] / 1e3, steady[steady.length * 9 / 10] / 1e3, steady.length);

        double[] h = matmul(x, w1, n, in, hidden);
        float[] hf = new float[h.length];
        for (int i = 0; i < h.length; i++) hf[i] = (float) Math.max(0, h[i] + b1[i % hidden]);
        double[] ref = matmul(hf, w2, n, hidden, out);
        double total = 0;
        for (int i = 0; i < ref.length; i++) total += ref[i] += b2[i % out];
        assertClose(ref, y, "mlp output");
        assertClose(new double[] {total}, sum, "sum of the mlp output");
    }

    @Test void convolution3x3PaddedOver5x5() {
        String text = """
                module @conv {
                  func.func public @main(%x: tensor<1x1x5x5xf32>, %k: tensor<1x1x3x3xf32>) -> tensor<1x1x5x5xf32> {
                    %0 = stablehlo.convolution(%x, %k) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1],
                           window = {stride = [1, 1], pad = [[1, 1], [1, 1]], rhs_dilate = [1, 1]}
                           {batch_group_count = 1 : i64, feature_group_count = 1 : i64}
                           : (tensor<1x1x5x5xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x5x5xf32>
                    return %0 : tensor<1x1x5x5xf32>
                  }
                }
                """;
        Random r = new Random(4);
        float[] x = random(r, 25), k = random(r, 9), out = new float[25];
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(1, 1, 5, 5), f32(1, 1, 3, 3)), List.of(f32(1, 1, 5, 5)))) {
            ex.run(List.of(seg(x), seg(k)), List.of(seg(out)));
        }
        // StableHLO's convolution is a cross-correlation: the kernel is not flipped.
        double[] ref = new double[25];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 5; j++) {
            for (int di = 0; di < 3; di++) for (int dj = 0; dj < 3; dj++) {
                int yi = i + di - 1, xj = j + dj - 1;
                if (yi >= 0 && yi < 5 && xj >= 0 && xj < 5) ref[i * 5 + j] += (double) x[yi * 5 + xj] * k[di * 3 + dj];
            }
        }
        assertClose(ref, out, "3x3 convolution, padding 1");
    }

    @Test void twoOutputs() {
        String text = """
                module @two {
                  func.func public @main(%a: tensor<3xf32>, %b: tensor<3xf32>) -> (tensor<3xf32> {jax.result_info = "sum"}, tensor<3xf32>) {
                    %0 = stablehlo.add %a, %b : tensor<3xf32>
                    %1 = stablehlo.multiply %a, %b : tensor<3xf32>
                    return %0, %1 : tensor<3xf32>, tensor<3xf32>
                  }
                }
                """;
        float[] a = {1, -2, 3.5f}, b = {4, 0.25f, -1}, sum = new float[3], product = new float[3];
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(3), f32(3)), List.of(f32(3), f32(3)))) {
            ex.run(List.of(seg(a), seg(b)), List.of(seg(sum), seg(product)));
        }
        assertArrayEquals(new float[] {5, -1.75f, 2.5f}, sum);
        assertArrayEquals(new float[] {4, -0.5f, -3.5f}, product);
    }

    @Test void int32AndBoolInAndOut() {
        String text = """
                module @ints {
                  func.func public @main(%a: tensor<6xi32>, %b: tensor<6xi32>, %p: tensor<6xi1>) -> (tensor<6xi32>, tensor<6xi1>) {
                    %m = stablehlo.multiply %a, %b : tensor<6xi32>
                    %s = stablehlo.add %m, %a : tensor<6xi32>
                    %sel = stablehlo.select %p, %s, %b : tensor<6xi1>, tensor<6xi32>
                    %gt = stablehlo.compare GT, %a, %b, SIGNED : (tensor<6xi32>, tensor<6xi32>) -> tensor<6xi1>
                    %x = stablehlo.xor %gt, %p : tensor<6xi1>
                    return %sel, %x : tensor<6xi32>, tensor<6xi1>
                  }
                }
                """;
        int[] a = {3, -4, 100000, 0, 7, Integer.MAX_VALUE}, b = {2, 5, 30000, -9, 7, 2};
        byte[] p = {1, 0, 1, 1, 0, 1};
        int[] sel = new int[6];
        byte[] x = new byte[6];
        TensorType i32 = TensorType.of(DType.I32, 6), bool = TensorType.of(DType.BOOL, 6);
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(i32, i32, bool), List.of(i32, bool))) {
            ex.run(List.of(seg(a), seg(b), seg(p)), List.of(seg(sel), seg(x)));
        }
        int[] refSel = new int[6];
        byte[] refX = new byte[6];
        for (int i = 0; i < 6; i++) {
            refSel[i] = p[i] != 0 ? a[i] * b[i] + a[i] : b[i]; // two's complement wrap-around, as XLA's
            refX[i] = (byte) ((a[i] > b[i] ? 1 : 0) ^ p[i]);
        }
        assertArrayEquals(refSel, sel);
        assertArrayEquals(refX, x, "bools come back as single bytes 0 and 1");
    }

    @Test void bf16InAndOut() {
        String text = """
                module @bf16 {
                  func.func public @main(%x: tensor<8xbf16>, %y: tensor<8xbf16>) -> (tensor<8xbf16>, tensor<8xf32>) {
                    %0 = stablehlo.multiply %x, %y : tensor<8xbf16>
                    %1 = stablehlo.add %0, %x : tensor<8xbf16>
                    %2 = stablehlo.convert %1 : (tensor<8xbf16>) -> tensor<8xf32>
                    return %1, %2 : tensor<8xbf16>, tensor<8xf32>
                  }
                }
                """;
        // Quarter steps with small magnitudes: every product and sum fits bf16's 8 significant bits.
        float[] x = {0.25f, -1.5f, 2, 3.75f, -0.5f, 0, 1, -2.25f}, y = {4, 0.5f, -1.25f, 2, 8, 3, -0.75f, 1};
        short[] out = new short[8];
        float[] widened = new float[8];
        TensorType bf16 = TensorType.of(DType.BF16, 8);
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(bf16, bf16), List.of(bf16, f32(8)))) {
            ex.run(List.of(seg(bf16(x)), seg(bf16(y))), List.of(seg(out), seg(widened)));
        }
        float[] ref = new float[8];
        for (int i = 0; i < 8; i++) ref[i] = x[i] * y[i] + x[i];
        assertArrayEquals(bf16(ref), out, "bf16 bits");
        assertArrayEquals(ref, widened);
    }

    @Test void f64F16I64AndI8InAndOut() {
        String text = """
                module @dtypes {
                  func.func public @main(%d: tensor<3xf64>, %h: tensor<3xf16>, %l: tensor<3xi64>, %b: tensor<3xi8>)
                      -> (tensor<3xf64>, tensor<3xf16>, tensor<3xi64>, tensor<3xi8>) {
                    %0 = stablehlo.multiply %d, %d : tensor<3xf64>
                    %1 = stablehlo.add %h, %h : tensor<3xf16>
                    %2 = stablehlo.negate %l : tensor<3xi64>
                    %3 = stablehlo.subtract %b, %b : tensor<3xi8>
                    %4 = stablehlo.add %3, %b : tensor<3xi8>
                    %5 = stablehlo.add %4, %b : tensor<3xi8>
                    return %0, %1, %2, %5 : tensor<3xf64>, tensor<3xf16>, tensor<3xi64>, tensor<3xi8>
                  }
                }
                """;
        double[] d = {Math.PI, -1e-300, 1e150}, dOut = new double[3];
        short[] h = {Float.floatToFloat16(1.5f), Float.floatToFloat16(-0.125f), Float.floatToFloat16(1000)}, hOut = new short[3];
        long[] l = {Long.MAX_VALUE, -5, 1L << 40}, lOut = new long[3];
        byte[] b = {100, -3, 0}, bOut = new byte[3];
        List<TensorType> types = List.of(TensorType.of(DType.F64, 3), TensorType.of(DType.F16, 3), TensorType.of(DType.I64, 3), TensorType.of(DType.I8, 3));
        try (var ex = XlaCallModuleExecutor.compile(text, types, types)) {
            ex.run(List.of(seg(d), seg(h), seg(l), seg(b)), List.of(seg(dOut), seg(hOut), seg(lOut), seg(bOut)));
        }
        assertArrayEquals(new double[] {d[0] * d[0], 0, d[2] * d[2]}, dOut, "f64 stays f64: 1e-300 squared underflows, 1e150 squared does not overflow");
        assertArrayEquals(new short[] {Float.floatToFloat16(3), Float.floatToFloat16(-0.25f), Float.floatToFloat16(2000)}, hOut);
        assertArrayEquals(new long[] {-Long.MAX_VALUE, 5, -(1L << 40)}, lOut);
        assertArrayEquals(new byte[] {(byte) 200, -6, 0}, bOut, "i8 wraps around");
    }

    /** Pretty forms of the ops an emitter reaches for first, each checked. */
    @Test void assortedOpsInPrettyForm() {
        String text = """
                module @assorted {
                  func.func public @main(%x: tensor<2x3xf32> {jax.arg_info = "x"}, %y: tensor<2x3xf32>)
                      -> (tensor<2x3xf32>, tensor<3x2xf32>, tensor<4xf32>, tensor<2x3xf32>, tensor<2x3xi32>, tensor<3xf32>, tensor<2x3xf64>) {
                    %n = stablehlo.negate %x : tensor<2x3xf32>
                    %e = stablehlo.exponential %n : tensor<2x3xf32>
                    %ab = stablehlo.abs %x : tensor<2x3xf32>
                    %one = stablehlo.constant dense<1.0> : tensor<2x3xf32>
                    %p = stablehlo.add %ab, %one : tensor<2x3xf32>
                    %l = stablehlo.log %p : tensor<2x3xf32>
                    %t = stablehlo.tanh %y : tensor<2x3xf32>
                    %q = stablehlo.sqrt %p : tensor<2x3xf32>
                    %rq = stablehlo.rsqrt %p : tensor<2x3xf32>
                    %d = stablehlo.divide %e, %q : tensor<2x3xf32>
                    %s = stablehlo.subtract %d, %l : tensor<2x3xf32>
                    %mn = stablehlo.minimum %s, %t : tensor<2x3xf32>
                    %math = stablehlo.multiply %mn, %rq : tensor<2x3xf32>
                    %tr = stablehlo.transpose %x, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
                    %r = stablehlo.reshape %x : (tensor<2x3xf32>) -> tensor<6xf32>
                    %sl = stablehlo.slice %r [1:5:2] : (tensor<6xf32>) -> tensor<2xf32>
                    %io = stablehlo.iota dim = 0 : tensor<2xf32>
                    %c = stablehlo.concatenate %sl, %io, dim = 0 : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
                    %gt = stablehlo.compare GT, %x, %y, FLOAT : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
                    %sel = stablehlo.select %gt, %x, %y : tensor<2x3xi1>, tensor<2x3xf32>
                    %ci = stablehlo.convert %x : (tensor<2x3xf32>) -> tensor<2x3xi32>
                    %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
                    %mx = stablehlo.reduce(%x init: %ninf) applies stablehlo.maximum across dimensions = [0] : (tensor<2x3xf32>, tensor<f32>) -> tensor<3xf32>
                    %k = stablehlo.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf64>
                    %xd = stablehlo.convert %x : (tensor<2x3xf32>) -> tensor<2x3xf64>
                    %kd = stablehlo.multiply %xd, %k : tensor<2x3xf64>
                    func.return %math, %tr, %c, %sel, %ci, %mx, %kd : tensor<2x3xf32>, tensor<3x2xf32>, tensor<4xf32>, tensor<2x3xf32>, tensor<2x3xi32>, tensor<3xf32>, tensor<2x3xf64>
                  }
                }
                """;
        float[] x = {-2.5f, 1.75f, 0.5f, 3, -0.25f, -1}, y = {1, 1.75f, -2, 0.5f, 0, 2};
        float[] math = new float[6], tr = new float[6], c = new float[4], sel = new float[6], mx = new float[3];
        int[] ci = new int[6];
        double[] kd = new double[6];
        TensorType m = f32(2, 3);
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(m, m),
                List.of(m, f32(3, 2), f32(4), m, TensorType.of(DType.I32, 2, 3), f32(3), TensorType.of(DType.F64, 2, 3)))) {
            ex.run(List.of(seg(x), seg(y)), List.of(seg(math), seg(tr), seg(c), seg(sel), seg(ci), seg(mx), seg(kd)));
        }
        double[] refMath = new double[6];
        for (int i = 0; i < 6; i++) {
            double p = Math.abs(x[i]) + 1;
            refMath[i] = Math.min(Math.exp(-x[i]) / Math.sqrt(p) - Math.log(p), Math.tanh(y[i])) / Math.sqrt(p);
        }
        assertClose(refMath, math, "exp, log, tanh, sqrt, rsqrt, divide, subtract, minimum");
        assertArrayEquals(new float[] {-2.5f, 3, 1.75f, -0.25f, 0.5f, -1}, tr, "transpose");
        assertArrayEquals(new float[] {1.75f, 3, 0, 1}, c, "reshape, slice [1:5:2], iota, concatenate");
        assertArrayEquals(new float[] {1, 1.75f, 0.5f, 3, 0, 2}, sel, "compare GT and select");
        assertArrayEquals(new int[] {-2, 1, 0, 3, 0, -1}, ci, "convert f32 -> i32 truncates toward zero");
        assertArrayEquals(new float[] {3, 1.75f, 0.5f}, mx, "reduce maximum from -inf");
        assertArrayEquals(new double[] {-2.5, 3.5, 1.5, 12, -1.25, -6}, kd, "f64 constant and convert");
    }

    /** The generic (quoted) op form with its attribute syntax, which a printer-free emitter can produce. */
    @Test void genericOpForm() {
        String text = """
                module @generic {
                  func.func public @main(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2xf32>) {
                    %0 = "stablehlo.dot_general"(%x, %w) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
                    %1 = "stablehlo.broadcast_in_dim"(%b) {broadcast_dimensions = array<i64: 1>} : (tensor<4xf32>) -> tensor<2x4xf32>
                    %2 = "stablehlo.add"(%0, %1) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
                    %z = "stablehlo.constant"() {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
                    %3 = "stablehlo.reduce"(%2, %z) ({
                      ^bb0(%a: tensor<f32>, %c: tensor<f32>):
                        %s = "stablehlo.add"(%a, %c) : (tensor<f32>, tensor<f32>) -> tensor<f32>
                        "stablehlo.return"(%s) : (tensor<f32>) -> ()
                    }) {dimensions = array<i64: 1>} : (tensor<2x4xf32>, tensor<f32>) -> tensor<2xf32>
                    "func.return"(%2, %3) : (tensor<2x4xf32>, tensor<2xf32>) -> ()
                  }
                }
                """;
        Random r = new Random(5);
        float[] x = random(r, 6), w = random(r, 12), b = random(r, 4), y = new float[8], rows = new float[2];
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2, 3), f32(3, 4), f32(4)), List.of(f32(2, 4), f32(2)))) {
            ex.run(List.of(seg(x), seg(w), seg(b)), List.of(seg(y), seg(rows)));
        }
        double[] ref = matmul(x, w, 2, 3, 4);
        double[] refRows = new double[2];
        for (int i = 0; i < 8; i++) refRows[i / 4] += ref[i] += b[i % 4];
        assertClose(ref, y, "x @ w + b");
        assertClose(refRows, rows, "row sums");
    }

    @Test void whileLoop() {
        String text = """
                module @loop {
                  func.func public @main(%x: tensor<4xf32>) -> tensor<4xf32> {
                    %i0 = stablehlo.constant dense<0> : tensor<i32>
                    %n = stablehlo.constant dense<3> : tensor<i32>
                    %one = stablehlo.constant dense<1> : tensor<i32>
                    %r:2 = stablehlo.while(%i = %i0, %acc = %x) : tensor<i32>, tensor<4xf32>
                      cond {
                        %c = stablehlo.compare LT, %i, %n, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
                        stablehlo.return %c : tensor<i1>
                      } do {
                        %i1 = stablehlo.add %i, %one : tensor<i32>
                        %a1 = stablehlo.add %acc, %acc : tensor<4xf32>
                        stablehlo.return %i1, %a1 : tensor<i32>, tensor<4xf32>
                      }
                    return %r#1 : tensor<4xf32>
                  }
                }
                """;
        float[] x = {1, -2, 0.5f, 3}, out = new float[4];
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(4)), List.of(f32(4)))) {
            ex.run(List.of(seg(x)), List.of(seg(out)));
        }
        assertArrayEquals(new float[] {8, -16, 4, 24}, out, "doubled three times");
    }

    @Test void syntaxErrorSaysItDidNotParseAndWhereTheDiagnosticWent() {
        String text = """
                module @broken {
                  func.func public @main(%x: tensor<2xf32>) -> tensor<2xf32> {
                    %0 = stablehlo.add %x %x : tensor<2xf32>
                    return %0 : tensor<2xf32>
                  }
                }
                """;
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2)), List.of(f32(2)))) {
            float[] out = new float[2];
            TfException e = assertThrows(TfException.class, () -> ex.run(List.of(seg(new float[2])), List.of(seg(out))));
            assertEquals("INVALID_ARGUMENT", e.codeName());
            assertTrue(e.getMessage().contains("Cannot deserialize computation"), e.getMessage());
            assertTrue(e.getMessage().contains("stderr"), "says where MLIR's diagnostic went: " + e.getMessage());
            // Not a poisoned session: the next run fails the same way rather than crashing.
            assertThrows(TfException.class, () -> ex.run(List.of(seg(new float[2])), List.of(seg(out))));
        }
    }

    /** {@link XlaCallModuleExecutor#VERSION} is the newest the library accepts: a TF upgrade that allows more fails here. */
    @Test void versionIsTheNewestTheLibraryAccepts() {
        String text = """
                func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
                  %0 = stablehlo.add %x, %x : tensor<2xf32>
                  return %0 : tensor<2xf32>
                }
                """;
        float[] out = new float[2];
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2)), List.of(f32(2)), XlaCallModuleExecutor.VERSION)) {
            ex.run(List.of(seg(new float[] {1, 2})), List.of(seg(out)));
            assertArrayEquals(new float[] {2, 4}, out, "a bare func.func, no module around it, works too");
        }
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2)), List.of(f32(2)), XlaCallModuleExecutor.VERSION + 1)) {
            TfException e = assertThrows(TfException.class, () -> ex.run(List.of(seg(new float[2])), List.of(seg(out))));
            assertTrue(e.getMessage().contains("not supported"), e.getMessage());
        }
    }

    @Test void declaredTypesMustBeMainsSignature() {
        String text = """
                func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
                  return %x : tensor<2x3xf32>
                }
                """;
        var wrongDType = assertThrows(IllegalArgumentException.class,
                () -> XlaCallModuleExecutor.compile(text, List.of(f32(2, 3)), List.of(TensorType.of(DType.F64, 2, 3))));
        assertTrue(wrongDType.getMessage().contains("output 0 of @main is f32[2, 3]"), wrongDType.getMessage());
        assertThrows(IllegalArgumentException.class, () -> XlaCallModuleExecutor.compile(text, List.of(f32(3, 2)), List.of(f32(2, 3))));
        assertThrows(IllegalArgumentException.class, () -> XlaCallModuleExecutor.compile(text, List.of(f32(2, 3)), List.of(f32(2, 3), f32(2, 3))));
    }

    @Test void segmentsMustHaveTheirTypesSizes() {
        String text = """
                func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
                  return %x : tensor<2x3xf32>
                }
                """;
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2, 3)), List.of(f32(2, 3)))) {
            assertThrows(IllegalArgumentException.class, () -> ex.run(List.of(seg(new float[5])), List.of(seg(new float[6]))));
            assertThrows(IllegalArgumentException.class, () -> ex.run(List.of(seg(new float[6])), List.of(seg(new float[7]))));
            assertThrows(IllegalArgumentException.class, () -> ex.run(List.of(), List.of(seg(new float[6]))));
            assertThrows(IllegalArgumentException.class, () -> ex.run(List.of(seg(new float[6])), List.of(seg(new float[6]).asReadOnly())));
            float[] out = new float[6];
            ex.run(List.of(seg(new float[] {1, 2, 3, 4, 5, 6})), List.of(seg(out)));
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, out, "an identity module");
        }
    }

    @Test void runAfterCloseThrowsAndCloseIsIdempotent() {
        String text = """
                func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
                  return %x : tensor<2xf32>
                }
                """;
        var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2)), List.of(f32(2)));
        ex.close();
        ex.close();
        assertThrows(IllegalStateException.class, () -> ex.run(List.of(seg(new float[2])), List.of(seg(new float[2]))));
    }

    @Test void concurrentRunsOnOneExecutorEachGetTheirOwnResult() throws Exception {
        String text = """
                func.func @main(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>) -> tensor<2x4xf32> {
                  %0 = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
                  return %0 : tensor<2x4xf32>
                }
                """;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (var ex = XlaCallModuleExecutor.compile(text, List.of(f32(2, 3), f32(3, 4)), List.of(f32(2, 4)))) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long seed = 100 + t;
                done.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    for (int i = 0; i < 50; i++) {
                        float[] x = random(r, 6), w = random(r, 12), out = new float[8];
                        ex.run(List.of(seg(x), seg(w)), List.of(seg(out)));
                        assertClose(matmul(x, w, 2, 3, 4), out, "thread " + seed + " run " + i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    // --- helpers ----------------------------------------------------------------------------

    private static MemorySegment seg(float[] a) { return MemorySegment.ofArray(a); }

    private static MemorySegment seg(double[] a) { return MemorySegment.ofArray(a); }

    private static MemorySegment seg(int[] a) { return MemorySegment.ofArray(a); }

    private static MemorySegment seg(long[] a) { return MemorySegment.ofArray(a); }

    private static MemorySegment seg(short[] a) { return MemorySegment.ofArray(a); }

    private static MemorySegment seg(byte[] a) { return MemorySegment.ofArray(a); }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** Row-major (m x k) @ (k x n) in float64. */
    private static double[] matmul(float[] a, float[] b, int m, int k, int n) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double) a[i * k + p] * b[p * n + j];
            c[i * n + j] = s;
        }
        return c;
    }

    /** Exact for these inputs: each value has at most 8 significant bits. */
    private static short[] bf16(float[] values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            int f = Float.floatToRawIntBits(values[i]);
            if ((f & 0xFFFF) != 0) fail(values[i] + " is not a bf16 value");
            bits[i] = (short) (f >>> 16);
        }
        return bits;
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = 1e-5 * (1 + Math.abs(expected[i]));
            if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
                fail(String.format(Locale.ROOT, "%s[%d]: %s, expected %s (within %.1e)", what, i, actual[i], expected[i], tolerance));
            }
        }
    }
}
