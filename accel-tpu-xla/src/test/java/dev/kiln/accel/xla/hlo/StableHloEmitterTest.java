package dev.kiln.accel.xla.hlo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Fused;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import dev.kiln.spi.ir.Window2d;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each primitive in a small graph, read back by {@link MlirText}: the signature and every IR
 * value's type must be the IR's, SSA must be well formed, and the trickiest ops (dimension
 * numbers, windows, broadcasts, the random hash) are pinned by golden substrings.
 */
class StableHloEmitterTest {
    private static final TensorType F32_2x3 = TensorType.of(DType.F32, 2, 3);

    // ---- elementwise ----------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(UnaryFn.class)
    void unary(UnaryFn fn) {
        MlirText t = one(b -> b.apply1(new Primitive.Unary(fn), b.input(F32_2x3)));
        String op = switch (fn) {
            case NEG -> "negate";
            case EXP -> "exponential";
            case LOG -> "log";
            case SQRT -> "sqrt";
            case TANH, GELU -> "tanh";
            case SIGMOID -> "logistic";
            case RELU -> "maximum";
            case ABS -> "abs";
            case ERF -> "chlo.erf";
        };
        String full = op.contains(".") ? op : "stablehlo." + op;
        assertEquals(1, t.count(full), fn + " lowers to one " + full);
    }

    @Test
    void geluInHalfPrecisionComputesInF32() {
        MlirText t = one(b -> b.unary(UnaryFn.GELU, b.input(TensorType.of(DType.BF16, 4))));
        assertEquals(2, t.count("stablehlo.convert"));
        assertTrue(t.ops().stream().filter(o -> o.name().equals("stablehlo.tanh")).allMatch(o -> o.resultType().equals("tensor<4xf32>")));
    }

    @ParameterizedTest
    @EnumSource(BinaryFn.class)
    void binaryBroadcastsBothOperands(BinaryFn fn) {
        String text = emit(b -> b.binary(fn, b.input(TensorType.of(DType.F32, 2, 1, 3)), b.input(TensorType.of(DType.F32, 4, 3))));
        assertTrue(text.contains("\"stablehlo.broadcast_in_dim\"(%v0) {broadcast_dimensions = array<i64: 0, 1, 2>} : (tensor<2x1x3xf32>) -> tensor<2x4x3xf32>"), text);
        assertTrue(text.contains("\"stablehlo.broadcast_in_dim\"(%v1) {broadcast_dimensions = array<i64: 1, 2>} : (tensor<4x3xf32>) -> tensor<2x4x3xf32>"), text);
        if (fn.isComparison()) assertTrue(text.contains("comparison_direction " + fn.name() + ">, compare_type = #stablehlo<comparison_type FLOAT>"), text);
    }

    @ParameterizedTest
    @MethodSource("dtypes")
    void binaryOnEveryDType(DType d) {
        for (BinaryFn fn : BinaryFn.values()) one(b -> b.binary(fn, b.input(TensorType.of(d, 3)), b.input(TensorType.of(d))));
    }

    @Test
    void integerDivisionByZeroIsZero() {
        MlirText t = one(b -> b.div(b.input(TensorType.of(DType.I32, 3)), b.input(TensorType.of(DType.I32, 3))));
        assertEquals(2, t.count("stablehlo.select"));
        assertTrue(t.ops().stream().anyMatch(o -> o.line().contains("comparison_direction EQ>, compare_type = #stablehlo<comparison_type SIGNED>")));
    }

    @Test
    void integerPowerHandlesNegativeExponentsAsTheReference() {
        MlirText t = one(b -> b.binary(BinaryFn.POW, b.input(TensorType.of(DType.I32, 3)), b.input(TensorType.of(DType.I32, 3))));
        assertEquals(1, t.count("stablehlo.power"));
        assertTrue(t.ops().stream().anyMatch(o -> o.line().contains("dense<-1> : tensor<i32>")), "0^-n saturates to the i64 maximum, wrapped to i32");
        assertEquals(1, one(b -> b.binary(BinaryFn.POW, b.input(TensorType.of(DType.F32, 3)), b.input(TensorType.of(DType.F32, 3)))).ops().size());
    }

    @Test
    void boolArithmeticIsLogic() {
        TensorType bool = TensorType.of(DType.BOOL, 2);
        assertEquals(1, one(b -> b.add(b.input(bool), b.input(bool))).count("stablehlo.or"));
        assertEquals(1, one(b -> b.mul(b.input(bool), b.input(bool))).count("stablehlo.and"));
        assertTrue(emit(b -> b.binary(BinaryFn.GT, b.input(bool), b.input(bool))).contains("comparison_type UNSIGNED"));
    }

    @Test
    void whereBroadcastsAllThree() {
        MlirText t = one(b -> b.where(b.input(TensorType.of(DType.BOOL, 2, 1)), b.input(TensorType.of(DType.F32, 3)), b.input(TensorType.of(DType.F32))));
        assertEquals(3, t.count("stablehlo.broadcast_in_dim"));
        assertEquals(1, t.count("stablehlo.select"));
    }

    @Test
    void castBetweenEveryPairOfDTypes() {
        for (DType from : DType.values()) {
            for (DType to : DType.values()) one(b -> b.apply1(new Primitive.Cast(to), b.input(TensorType.of(from, 2, 2))));
        }
    }

    @Test
    void castsThatMustRoundOrWrapLikeTheReference() {
        String toBool = emit(b -> b.apply1(new Primitive.Cast(DType.BOOL), b.input(F32_2x3)));
        assertTrue(toBool.contains("comparison_direction NE"), toBool);
        MlirText toI32 = one(b -> b.apply1(new Primitive.Cast(DType.I32), b.input(F32_2x3)));
        assertEquals(List.of("tensor<2x3xi64>", "tensor<2x3xi32>"), resultTypes(toI32, "stablehlo.convert"));
        MlirText toBf16 = one(b -> b.apply1(new Primitive.Cast(DType.BF16), b.input(TensorType.of(DType.F64, 2))));
        assertEquals(List.of("tensor<2xf32>", "tensor<2xbf16>"), resultTypes(toBf16, "stablehlo.convert"));
    }

    // ---- reduce ---------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("dtypes")
    void reduce(DType d) {
        TensorType x = TensorType.of(d, 2, 3, 4);
        for (ReduceFn fn : ReduceFn.values()) {
            for (boolean keep : new boolean[] {false, true}) {
                for (List<Integer> axes : List.of(List.of(1), List.of(0, 2), List.of(0, 1, 2), List.<Integer>of())) {
                    one(b -> b.apply1(new Primitive.Reduce(fn, axes, keep), b.input(x)));
                }
            }
        }
    }

    @Test
    void reduceHasAnInitAndARegion() {
        String text = emit(b -> b.sum(b.input(F32_2x3), List.of(1), true));
        assertTrue(text.contains("value = dense<0.0> : tensor<f32>"), text);
        assertTrue(text.contains("= \"stablehlo.reduce\"(%v0, "), text);
        assertTrue(text.contains("{dimensions = array<i64: 1>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2xf32>"), text);
        assertTrue(text.contains("\"stablehlo.reshape\"") && text.contains("-> tensor<2x1xf32>"), text);
        String max = emit(b -> b.max(b.input(F32_2x3), List.of(0, 1), false));
        assertTrue(max.contains("value = dense<0xFF800000> : tensor<f32>") && max.contains("\"stablehlo.maximum\""), max);
        String halfSum = emit(b -> b.sum(b.input(TensorType.of(DType.BF16, 8)), List.of(0), false));
        assertTrue(halfSum.contains("(tensor<8xf32>, tensor<f32>) -> tensor<f32>"), "bf16 sums accumulate in f32\n" + halfSum);
        assertTrue(emit(b -> b.max(b.input(TensorType.of(DType.I32, 3)), List.of(0), false)).contains("dense<-2147483648> : tensor<i32>"));
    }

    // ---- contraction ----------------------------------------------------------------------------

    static Stream<Arguments> matmuls() {
        return Stream.of(
                Arguments.of(false, false, 2, "contracting_dims = [1] x [0]"),
                Arguments.of(true, false, 2, "contracting_dims = [0] x [0]"),
                Arguments.of(false, true, 2, "contracting_dims = [1] x [1]"),
                Arguments.of(true, true, 2, "contracting_dims = [0] x [1]"),
                Arguments.of(false, false, 3, "batching_dims = [0] x [0], contracting_dims = [2] x [1]"),
                Arguments.of(true, false, 3, "batching_dims = [0] x [0], contracting_dims = [1] x [1]"),
                Arguments.of(false, true, 3, "batching_dims = [0] x [0], contracting_dims = [2] x [2]"),
                Arguments.of(true, true, 3, "batching_dims = [0] x [0], contracting_dims = [1] x [2]"));
    }

    @ParameterizedTest
    @MethodSource("matmuls")
    void matmulFoldsTransposesIntoDimensionNumbers(boolean ta, boolean tb, int rank, String dims) {
        int m = 2, k = 3, n = 5;
        Shape a = rank == 2 ? (ta ? Shape.of(k, m) : Shape.of(m, k)) : (ta ? Shape.of(4, k, m) : Shape.of(4, m, k));
        Shape bs = rank == 2 ? (tb ? Shape.of(n, k) : Shape.of(k, n)) : (tb ? Shape.of(4, n, k) : Shape.of(4, k, n));
        String text = emit(b -> b.matmul(b.input(new TensorType(DType.F32, a)), b.input(new TensorType(DType.F32, bs)), ta, tb));
        String out = rank == 2 ? "tensor<2x5xf32>" : "tensor<4x2x5xf32>";
        assertTrue(text.contains("stablehlo.dot_general %v0, %v1, " + dims + " : ("), text);
        assertTrue(text.contains(") -> " + out), text);
        assertEquals(0, MlirText.parse(text).count("stablehlo.transpose"));
    }

    @Test
    void halfPrecisionMatmulAccumulatesInF32() {
        MlirText t = one(b -> b.matmul(b.input(TensorType.of(DType.BF16, 2, 3)), b.input(TensorType.of(DType.BF16, 3, 4)), false, false));
        assertEquals(List.of("tensor<2x4xf32>"), resultTypes(t, "stablehlo.dot_general"));
    }

    /** Geometries that exercise stride, padding, dilation, groups, floor-mode leftovers and padding wider than the dilated kernel. */
    static Stream<Arguments> convolutions() {
        return Stream.of(
                Arguments.of(new Window2d(3, 3, 1, 1, 1, 1, 1, 1), 1, 4, 3, 8, 8),
                Arguments.of(new Window2d(3, 3, 2, 2, 1, 1, 1, 1), 1, 2, 4, 7, 7),
                Arguments.of(new Window2d(3, 2, 2, 3, 0, 1, 2, 1), 1, 2, 3, 9, 10),
                Arguments.of(new Window2d(3, 3, 1, 1, 1, 1, 1, 1), 2, 4, 6, 5, 5),
                Arguments.of(new Window2d(3, 3, 2, 2, 1, 1, 1, 1), 4, 4, 8, 6, 6),
                Arguments.of(new Window2d(1, 1, 1, 1, 1, 1, 1, 1), 1, 3, 2, 4, 4),
                Arguments.of(new Window2d(2, 2, 3, 3, 0, 0, 1, 1), 1, 2, 2, 8, 8));
    }

    @ParameterizedTest
    @MethodSource("convolutions")
    void conv2d(Window2d win, int groups, int cin, int cout, int h, int w) {
        TensorType x = TensorType.of(DType.F32, 2, cin, h, w), weight = TensorType.of(DType.F32, cout, cin / groups, win.kernelH(), win.kernelW());
        String text = emit(b -> b.apply1(new Primitive.Conv2d(win, groups), b.input(x), b.input(weight)));
        assertTrue(text.contains("stablehlo.convolution(%v0, %v1) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1], window = {stride = ["
                + win.strideH() + ", " + win.strideW() + "], pad = [[" + win.padH() + ", " + win.padH() + "], [" + win.padW() + ", " + win.padW()
                + "]], lhs_dilate = [1, 1], rhs_dilate = [" + win.dilationH() + ", " + win.dilationW() + "]} {batch_group_count = 1 : i64, feature_group_count = "
                + groups + " : i64}"), text);
    }

    @Test
    void conv2dPadsTheOverhangThatWindow2dCounts() {
        // Width 4, padding 1, dilated kernel 7, stride 2: (4 + 2 - 7) / 2 + 1 is 1 in Java's division,
        // so one window overhangs by a column; the reference skips it, so it is padded with zeros.
        Window2d win = new Window2d(3, 3, 1, 2, 1, 1, 2, 3);
        assertEquals(1, win.outW(4));
        String text = emit(b -> b.apply1(new Primitive.Conv2d(win, 1), b.input(TensorType.of(DType.F32, 1, 1, 5, 4)), b.input(TensorType.of(DType.F32, 1, 1, 3, 3))));
        assertTrue(text.contains("pad = [[1, 1], [1, 2]]") && text.contains("-> tensor<1x1x3x1xf32>"), text);
    }

    @ParameterizedTest
    @MethodSource("convolutions")
    void conv2dBackwardData(Window2d win, int groups, int cin, int cout, int h, int w) {
        Shape input = Shape.of(2, cin, h, w);
        TensorType weight = TensorType.of(DType.F32, cout, cin / groups, win.kernelH(), win.kernelW());
        TensorType dy = TensorType.of(DType.F32, 2, cout, win.outH(h), win.outW(w));
        MlirText t = one(b -> b.apply1(new Primitive.Conv2dBackwardData(win, groups, input), b.input(dy), b.input(weight)));
        MlirText.Op conv = single(t, "stablehlo.convolution");
        assertTrue(conv.line().contains("dim_numbers = [b, f, 0, 1]x[i, o, 0, 1]->[b, f, 0, 1], window = {stride = [1, 1], pad = [[0, 0], [0, 0]]"), conv.line());
        assertTrue(conv.line().contains("lhs_dilate = [1, 1], rhs_dilate = [" + win.dilationH() + ", " + win.dilationW() + "]"), conv.line());
        MlirText.Op dilate = single(t, "stablehlo.pad");
        assertTrue(dilate.line().contains("interior_padding = array<i64: 0, 0, " + (win.strideH() - 1) + ", " + (win.strideW() - 1) + ">"), dilate.line());
        assertTrue(conv.line().contains("feature_group_count = " + groups + " : i64"), conv.line());
        assertEquals(1, t.count("stablehlo.reverse"));
        assertEquals(groups > 1 ? 1 : 0, t.count("stablehlo.transpose"));
    }

    @Test
    void conv2dBackwardDataPadding() {
        // k3 s2 p1 on 7: dy is 4 long, dilated to 7; pads (3-1)-1 = 1 below and 7-1+1-6 = 1 above.
        Window2d win = Window2d.square(3, 2, 1);
        String text = emit(b -> b.apply1(new Primitive.Conv2dBackwardData(win, 1, Shape.of(1, 2, 7, 7)), b.input(TensorType.of(DType.F32, 1, 3, 4, 4)),
                b.input(TensorType.of(DType.F32, 3, 2, 3, 3))));
        assertTrue(text.contains("{edge_padding_low = array<i64: 0, 0, 1, 1>, edge_padding_high = array<i64: 0, 0, 1, 1>, interior_padding = array<i64: 0, 0, 1, 1>}"
                + " : (tensor<1x3x4x4xf32>, tensor<f32>) -> tensor<1x3x9x9xf32>"), text);
        // A 1x1 kernel with padding 1 would need padding -1: it pads 0 and slices the border off.
        String negative = emit(b -> b.apply1(new Primitive.Conv2dBackwardData(Window2d.square(1, 1, 1), 1, Shape.of(1, 2, 4, 4)),
                b.input(TensorType.of(DType.F32, 1, 3, 6, 6)), b.input(TensorType.of(DType.F32, 3, 2, 1, 1))));
        assertTrue(negative.contains("pad = [[0, 0], [0, 0]]") && negative.contains("start_indices = array<i64: 0, 0, 1, 1>"), negative);
    }

    @ParameterizedTest
    @MethodSource("convolutions")
    void conv2dBackwardWeights(Window2d win, int groups, int cin, int cout, int h, int w) {
        TensorType x = TensorType.of(DType.F32, 2, cin, h, w);
        Shape weight = Shape.of(cout, cin / groups, win.kernelH(), win.kernelW());
        TensorType dy = TensorType.of(DType.F32, 2, cout, win.outH(h), win.outW(w));
        MlirText t = one(b -> b.apply1(new Primitive.Conv2dBackwardWeights(win, groups, weight), b.input(x), b.input(dy)));
        MlirText.Op conv = single(t, "stablehlo.convolution");
        assertTrue(conv.line().contains("dim_numbers = [f, b, 0, 1]x[i, o, 0, 1]->[f, b, 0, 1], window = {stride = [" + win.dilationH() + ", " + win.dilationW() + "]"), conv.line());
        assertTrue(conv.line().contains("lhs_dilate = [1, 1], rhs_dilate = [" + win.strideH() + ", " + win.strideW() + "]"), conv.line());
        assertTrue(conv.line().contains("{batch_group_count = " + groups + " : i64, feature_group_count = 1 : i64}"), conv.line());
    }

    @Test
    void conv2dBackwardWeightsSlicesRowsFloorModeNeverRead() {
        // k2 s3 on 9: three windows read rows 0..7 and never row 8, so the high padding would be -1: pad 0 and slice to k.
        Window2d win = new Window2d(2, 2, 3, 3, 0, 0, 1, 1);
        String text = emit(b -> b.apply1(new Primitive.Conv2dBackwardWeights(win, 1, Shape.of(2, 2, 2, 2)), b.input(TensorType.of(DType.F32, 2, 2, 9, 9)),
                b.input(TensorType.of(DType.F32, 2, 2, 3, 3))));
        assertTrue(text.contains("pad = [[0, 0], [0, 0]]") && text.contains("-> tensor<2x2x3x3xf32>") && text.contains("limit_indices = array<i64: 2, 2, 2, 2>"), text);
    }

    @Test
    void halfPrecisionConvolutionAccumulatesInF32() {
        MlirText t = one(b -> b.apply1(new Primitive.Conv2d(Window2d.square(3, 1, 1), 1), b.input(TensorType.of(DType.F16, 1, 2, 4, 4)),
                b.input(TensorType.of(DType.F16, 3, 2, 3, 3))));
        assertEquals(List.of("tensor<1x3x4x4xf32>"), resultTypes(t, "stablehlo.convolution"));
    }

    // ---- pooling --------------------------------------------------------------------------------

    @Test
    void maxPoolIndicesScansTheTaps() {
        Window2d win = new Window2d(3, 2, 2, 1, 1, 1, 1, 2);
        TensorType x = TensorType.of(DType.F32, 2, 3, 7, 6);
        MlirText t = one(b -> b.apply1(new Primitive.MaxPool2dIndices(win), b.input(x)));
        assertEquals(2 * 3 * 2, t.count("stablehlo.slice"), "one value slice and one index slice per tap");
        assertEquals(2, t.count("stablehlo.pad"));
        assertTrue(t.ops().stream().anyMatch(o -> o.line().contains("edge_padding_low = array<i64: 0, 0, 1, 1>")));
        assertEquals("tensor<2x3x4x6xi32>", t.resultTypes().getFirst());
    }

    @Test
    void maxPoolIndicesWithoutPaddingAndOneTap() {
        one(b -> b.apply1(new Primitive.MaxPool2dIndices(Window2d.square(2, 2, 0)), b.input(TensorType.of(DType.BF16, 1, 1, 4, 4))));
        MlirText t = one(b -> b.apply1(new Primitive.MaxPool2dIndices(Window2d.square(1, 1, 0)), b.input(TensorType.of(DType.F32, 1, 2, 3, 3))));
        assertEquals(0, t.count("stablehlo.select"));
    }

    // ---- movement -------------------------------------------------------------------------------

    @Test
    void movement() {
        TensorType x = TensorType.of(DType.F32, 2, 3, 4);
        assertTrue(emit(b -> b.reshape(b.input(x), Shape.of(6, 4))).contains("\"stablehlo.reshape\"(%v0) : (tensor<2x3x4xf32>) -> tensor<6x4xf32>"));
        assertTrue(emit(b -> b.apply1(new Primitive.Permute(List.of(2, 0, 1)), b.input(x)))
                .contains("\"stablehlo.transpose\"(%v0) {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>"));
        assertTrue(emit(b -> b.broadcast(b.input(TensorType.of(DType.F32, 3, 1)), Shape.of(2, 3, 5)))
                .contains("{broadcast_dimensions = array<i64: 1, 2>} : (tensor<3x1xf32>) -> tensor<2x3x5xf32>"));
        assertTrue(emit(b -> b.apply1(new Primitive.Slice(1, 1, 3), b.input(x)))
                .contains("{start_indices = array<i64: 0, 1, 0>, limit_indices = array<i64: 2, 3, 4>, strides = array<i64: 1, 1, 1>} : (tensor<2x3x4xf32>) -> tensor<2x2x4xf32>"));
        assertTrue(emit(b -> b.apply1(new Primitive.Concat(2), b.input(x), b.input(TensorType.of(DType.F32, 2, 3, 1))))
                .contains("\"stablehlo.concatenate\"(%v0, %v1) {dimension = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x1xf32>) -> tensor<2x3x5xf32>"));
        one(b -> b.apply1(new Primitive.Permute(List.of()), b.input(TensorType.of(DType.I8))));
        one(b -> b.apply1(new Primitive.Concat(0), b.input(TensorType.of(DType.BOOL, 2))));
    }

    @Test
    void aNodeThatComputesNothingStillGetsItsOwnValue() {
        // Broadcast to its own shape, applied directly (the builder would skip it).
        MlirText t = one(b -> b.apply1(new Primitive.Broadcast(Shape.of(2, 3)), b.input(F32_2x3)));
        assertEquals(1, t.ops().size());
    }

    // ---- indexing -------------------------------------------------------------------------------

    @Test
    void gather() {
        TensorType x = TensorType.of(DType.F32, 5, 6, 7);
        String text = emit(b -> b.apply1(new Primitive.Gather(1), b.input(x), b.input(TensorType.of(DType.I64, 2, 3))));
        assertTrue(text.contains("dimension_numbers = #stablehlo.gather<offset_dims = [0, 3], collapsed_slice_dims = [1], start_index_map = [1], index_vector_dim = 2>"
                + ", indices_are_sorted = false, slice_sizes = array<i64: 5, 1, 7>} : (tensor<5x6x7xf32>, tensor<2x3xi64>) -> tensor<5x2x3x7xf32>"), text);
        for (int axis = 0; axis < 3; axis++) {
            int a = axis;
            one(b -> b.apply1(new Primitive.Gather(a), b.input(x), b.input(TensorType.of(DType.I32, 4))));
            one(b -> b.apply1(new Primitive.Gather(a), b.input(x), b.input(TensorType.of(DType.I32))));
        }
        one(b -> b.apply1(new Primitive.Gather(0), b.input(TensorType.of(DType.F32, 9)), b.input(TensorType.of(DType.I32, 4))));
    }

    @Test
    void scatterAdd() {
        Shape target = Shape.of(5, 6, 7);
        String text = emit(b -> b.apply1(new Primitive.ScatterAdd(1, target), b.input(TensorType.of(DType.I32, 4)), b.input(TensorType.of(DType.F32, 5, 4, 7))));
        assertTrue(text.contains("scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [0, 2], inserted_window_dims = [1], "
                + "scatter_dims_to_operand_dims = [1], index_vector_dim = 1>"), text);
        assertTrue(text.contains(": (tensor<5x6x7xf32>, tensor<4xi32>, tensor<5x4x7xf32>) -> tensor<5x6x7xf32>"), text);
        MlirText half = one(b -> b.apply1(new Primitive.ScatterAdd(0, Shape.of(9)), b.input(TensorType.of(DType.I64, 2, 2)), b.input(TensorType.of(DType.BF16, 2, 2))));
        assertEquals(List.of("tensor<9xf32>"), resultTypes(half, "stablehlo.scatter"));
        one(b -> b.apply1(new Primitive.ScatterAdd(0, Shape.of(3)), b.input(TensorType.of(DType.I32)), b.input(TensorType.of(DType.BOOL))));
    }

    // ---- sources --------------------------------------------------------------------------------

    @Test
    void fillWritesTheRoundedValue() {
        assertTrue(emit(b -> b.fill(0.1, F32_2x3)).contains("dense<0.10000000149011612> : tensor<f32>"));
        assertTrue(emit(b -> b.fill(0.1, TensorType.of(DType.F64))).contains("dense<0.1> : tensor<f64>"));
        assertTrue(emit(b -> b.fill(Double.NaN, TensorType.of(DType.BF16, 2))).contains("dense<0x7FC0> : tensor<bf16>"));
        assertTrue(emit(b -> b.fill(Double.POSITIVE_INFINITY, TensorType.of(DType.F16, 2))).contains("dense<0x7C00> : tensor<f16>"));
        assertTrue(emit(b -> b.fill(300, TensorType.of(DType.I8, 2))).contains("dense<44> : tensor<i8>"));
        assertTrue(emit(b -> b.fill(-2.7, TensorType.of(DType.I32, 2))).contains("dense<-2> : tensor<i32>"));
        assertTrue(emit(b -> b.fill(0.5, TensorType.of(DType.BOOL, 2))).contains("dense<true> : tensor<i1>"));
        for (DType d : DType.values()) one(b -> b.fill(1, TensorType.of(d, 2, 2)));
    }

    @Test
    void iota() {
        assertTrue(emit(b -> b.apply1(new Primitive.Iota(1, TensorType.of(DType.F32, 2, 5)))).contains("\"stablehlo.iota\"() {iota_dimension = 1 : i64} : () -> tensor<2x5xf32>"));
        for (DType d : DType.values()) one(b -> b.apply1(new Primitive.Iota(0, TensorType.of(d, 3, 2))));
    }

    @Test
    void randomUniformIsTheReferenceHash() {
        TensorType type = TensorType.of(DType.F32, 2, 3);
        MlirText t = one(b -> b.apply1(new Primitive.RandomUniform(type), b.input(TensorType.of(DType.I64))));
        String text = String.join("\n", t.ops().stream().map(MlirText.Op::line).toList());
        for (long c : new long[] {0x9E3779B97F4A7C15L, 0xD1B54A32D192ED03L, 0xBF58476D1CE4E5B9L, 0x94D049BB133111EBL}) {
            assertTrue(text.contains("dense<" + Long.toUnsignedString(c) + "> : tensor<ui64>"), Long.toHexString(c));
        }
        assertTrue(text.contains("\"stablehlo.bitcast_convert\"(%v0) : (tensor<i64>) -> tensor<ui64>"), text);
        assertEquals(4, t.count("stablehlo.shift_right_logical"));
        assertTrue(text.contains("dense<" + Double.toString(0x1.0p-24) + "> : tensor<f32>"), text);
        for (DType d : List.of(DType.F64, DType.BF16, DType.F16)) one(b -> b.apply1(new Primitive.RandomUniform(TensorType.of(d, 4)), b.input(TensorType.of(DType.I64))));
        one(b -> b.apply1(new Primitive.RandomUniform(TensorType.of(DType.F32)), b.input(TensorType.of(DType.I64))));
    }

    // ---- composites, refusals, donations --------------------------------------------------------

    @Test
    void compositesDecomposeUnlessNative() {
        Function<Graph.Builder, Value> linear = b -> b.apply1(new Composite.Linear(Composite.Activation.GELU), b.input(TensorType.of(DType.F32, 4, 3)),
                b.input(TensorType.of(DType.F32, 5, 3)), b.input(TensorType.of(DType.F32, 5)));
        one(linear);
        MlirText fused = check(build(linear), StableHloEmitter.Options.defaults().withNativeComposites(Set.of(Composite.Linear.class)));
        assertTrue(fused.ops().stream().anyMatch(o -> o.line().contains("contracting_dims = [1] x [1]")));
        Function<Graph.Builder, Value> layerNorm = b -> b.apply1(new Composite.LayerNorm(1, 1e-5), b.input(TensorType.of(DType.F32, 4, 3)),
                b.input(TensorType.of(DType.F32, 3)), b.input(TensorType.of(DType.F32, 3)));
        one(layerNorm);
        assertThrows(IllegalArgumentException.class, () -> StableHloEmitter.emit(build(layerNorm),
                StableHloEmitter.Options.defaults().withNativeComposites(Set.of(Composite.LayerNorm.class))));
    }

    @Test
    void nativeSoftmaxFamily() {
        StableHloEmitter.Options all = StableHloEmitter.Options.defaults().withNativeComposites(StableHloEmitter.supportedComposites());
        TensorType logits = TensorType.of(DType.F32, 4, 10);
        check(build(b -> b.apply1(new Composite.Softmax(1), b.input(logits))), all);
        check(build(b -> b.apply1(new Composite.LogSoftmax(0), b.input(logits))), all);
        MlirText sce = check(build(b -> b.apply1(new Composite.SoftmaxCrossEntropy(), b.input(logits), b.input(TensorType.of(DType.I32, 4)))), all);
        assertEquals("tensor<f32>", sce.resultTypes().getFirst());
    }

    @Test
    void fusedOpsAreRefusedNamingTheNode() {
        record Opaque() implements Fused {
            public List<TensorType> infer(List<TensorType> in) { return List.of(in.getFirst()); }
        }
        Graph.Builder b = Graph.builder();
        Value x = b.input(F32_2x3);
        Graph g = b.build(List.of(b.apply1(new Opaque(), x)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StableHloEmitter.emit(g, StableHloEmitter.Options.defaults()));
        assertTrue(e.getMessage().contains("Opaque[](f32[2, 3]) -> f32[2, 3]") && e.getMessage().contains("fused"), e.getMessage());
    }

    @Test
    void malformedNodesAreRefusedNamingTheNode() {
        Value x = new Value(0, F32_2x3);
        Node bad = new Node(new Primitive.Unary(UnaryFn.EXP), List.of(x), List.of(new Value(1, TensorType.of(DType.F32, 3, 2))));
        Graph g = new Graph(List.of(x), List.of(bad), List.of(bad.output()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StableHloEmitter.emit(g, StableHloEmitter.Options.defaults()));
        assertTrue(e.getMessage().contains("exp"), e.getMessage());
        Node undefined = new Node(new Primitive.Unary(UnaryFn.EXP), List.of(new Value(7, F32_2x3)), List.of(new Value(8, F32_2x3)));
        Graph g2 = new Graph(List.of(x), List.of(undefined), List.of(undefined.output()));
        assertThrows(IllegalArgumentException.class, () -> StableHloEmitter.emit(g2, StableHloEmitter.Options.defaults()));
    }

    @Test
    void donationsBecomeAliasingAttributes() {
        Graph.Builder b = Graph.builder();
        Value p = b.input(F32_2x3), g = b.input(F32_2x3), lr = b.input(TensorType.of(DType.F32));
        Value loss = b.sum(b.mul(p, p), List.of(0, 1), false);
        Graph graph = b.build(List.of(loss, b.sub(p, b.mul(g, lr)), lr));
        MlirText t = check(graph, StableHloEmitter.Options.defaults().withDonations(Map.of(0, 1)));
        assertEquals("tf.aliasing_output = 1 : i32", t.args().get(0).attributes());
        assertEquals("", t.args().get(1).attributes());
        assertEquals("%v2", t.returned().get(2), "an input returned as is");
        StableHloEmitter.Module m = StableHloEmitter.emit(graph, StableHloEmitter.Options.defaults().withDonations(Map.of(0, 1)));
        assertEquals(Map.of(0, 1), m.donations());
        assertThrows(IllegalArgumentException.class, () -> StableHloEmitter.emit(graph, StableHloEmitter.Options.defaults().withDonations(Map.of(0, 0))));
        assertThrows(IllegalArgumentException.class, () -> StableHloEmitter.emit(graph, StableHloEmitter.Options.defaults().withDonations(Map.of(0, 3))));
        assertThrows(IllegalArgumentException.class, () -> StableHloEmitter.emit(graph, StableHloEmitter.Options.defaults().withDonations(Map.of(0, 1, 1, 1))));
    }

    @Test
    void moduleShape() {
        String text = emit(b -> b.unary(UnaryFn.EXP, b.input(F32_2x3)));
        assertTrue(text.startsWith("module @kiln"), text);
        assertTrue(text.contains("  func.func public @main(%v0: tensor<2x3xf32>) -> (tensor<2x3xf32>) {\n"), text);
        assertTrue(text.contains("    %v1 = \"stablehlo.exponential\"(%v0) : (tensor<2x3xf32>) -> tensor<2x3xf32>\n"), text);
        assertTrue(text.contains("    \"func.return\"(%v1) : (tensor<2x3xf32>) -> ()\n"), text);
    }

    // ---- helpers --------------------------------------------------------------------------------

    static Stream<DType> dtypes() { return Stream.of(DType.values()); }

    private static Graph build(Function<Graph.Builder, Value> body) {
        Graph.Builder b = Graph.builder();
        Value out = body.apply(b);
        return b.build(List.of(out));
    }

    private static String emit(Function<Graph.Builder, Value> body) {
        Graph g = build(body);
        String text = StableHloEmitter.emit(g, StableHloEmitter.Options.defaults()).text();
        checkAgainstGraph(MlirText.parse(text), g, Set.of());
        return text;
    }

    private static MlirText one(Function<Graph.Builder, Value> body) { return MlirText.parse(emit(body)); }

    /** Emits, reads back and checks the signature and every node's value against the graph's types. */
    static MlirText check(Graph g, StableHloEmitter.Options options) {
        StableHloEmitter.Module m = StableHloEmitter.emit(g, options);
        MlirText t = MlirText.parse(m.text());
        checkAgainstGraph(t, g, options.nativeComposites());
        assertEquals(g.inputs().stream().map(Value::type).toList(), m.inputs());
        assertEquals(g.outputs().stream().map(Value::type).toList(), m.outputs());
        return t;
    }

    /**
     * Signature against {@code g}, and, unless a composite was decomposed (which renames the values
     * after it), the returned names and every node's value type.
     */
    static void checkAgainstGraph(MlirText t, Graph g, Set<Class<? extends Composite>> nativeComposites) {
        assertEquals(g.inputs().stream().map(v -> mlir(v.type())).toList(), t.args().stream().map(MlirText.Arg::type).toList());
        assertEquals(g.inputs().stream().map(v -> "%v" + v.id()).toList(), t.args().stream().map(MlirText.Arg::name).toList());
        assertEquals(g.outputs().stream().map(v -> mlir(v.type())).toList(), t.resultTypes());
        boolean decomposed = g.nodes().stream().anyMatch(n -> n.op() instanceof Composite c && !nativeComposites.contains(c.getClass()));
        if (decomposed) return;
        assertEquals(g.outputs().stream().map(v -> "%v" + v.id()).toList(), t.returned());
        for (Node n : g.nodes()) {
            for (Value v : n.outputs()) assertEquals(mlir(v.type()), t.typeOf("%v" + v.id()), "value of " + n.describe());
        }
    }

    private static List<String> resultTypes(MlirText t, String op) {
        List<String> r = new ArrayList<>();
        for (MlirText.Op o : t.ops()) if (o.name().equals(op)) r.add(o.resultType());
        return r;
    }

    private static MlirText.Op single(MlirText t, String op) {
        List<MlirText.Op> found = t.ops().stream().filter(o -> o.name().equals(op)).toList();
        assertEquals(1, found.size(), op);
        return found.getFirst();
    }

    /** The MLIR spelling of a Kiln type, written here independently of the emitter's. */
    static String mlir(TensorType t) {
        StringBuilder sb = new StringBuilder("tensor<");
        for (int d : t.shape().dims()) sb.append(d).append('x');
        String e = switch (t.dtype()) {
            case BOOL -> "i1";
            default -> t.dtype().label();
        };
        return sb.append(e).append('>').toString();
    }
}
