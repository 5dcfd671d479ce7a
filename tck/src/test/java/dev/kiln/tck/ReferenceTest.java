package dev.kiln.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import dev.kiln.spi.ir.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The oracle checked against values worked out by hand: the conformance kit is only as right as
 * this interpreter, and the toy plugin, being built from it, cannot catch its mistakes.
 */
class ReferenceTest {
    private static final DType F = DType.F32;

    private static double[] eval(Op op, List<TensorType> types, double[]... in) {
        return Reference.evalNode(op, types, List.of(in)).getFirst();
    }

    private static TensorType t(DType d, int... dims) { return TensorType.of(d, dims); }

    @Test void binaryBroadcastsColumnAgainstRow() {
        double[] y = eval(new Primitive.Binary(BinaryFn.SUB), List.of(t(F, 3, 1), t(F, 1, 2)), new double[] {10, 20, 30}, new double[] {1, 2});
        assertArrayEquals(new double[] {9, 8, 19, 18, 29, 28}, y);
    }

    @Test void binaryBroadcastsScalarAndLowerRank() {
        assertArrayEquals(new double[] {3, 4}, eval(new Primitive.Binary(BinaryFn.ADD), List.of(t(F), t(F, 2)), new double[] {1}, new double[] {2, 3}));
        double[] y = eval(new Primitive.Binary(BinaryFn.MUL), List.of(t(F, 2), t(F, 2, 2, 2)), new double[] {1, -1}, new double[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertArrayEquals(new double[] {1, -2, 3, -4, 5, -6, 7, -8}, y);
    }

    @Test void comparisonsAreStrictAndProduceBool() {
        List<TensorType> ts = List.of(t(F, 3), t(F, 3));
        double[] a = {1, 2, 3}, b = {2, 2, 2};
        assertArrayEquals(new double[] {0, 0, 1}, eval(new Primitive.Binary(BinaryFn.GT), ts, a, b));
        assertArrayEquals(new double[] {1, 0, 0}, eval(new Primitive.Binary(BinaryFn.LT), ts, a, b));
        assertArrayEquals(new double[] {0, 1, 0}, eval(new Primitive.Binary(BinaryFn.EQ), ts, a, b));
    }

    @Test void integerArithmeticWrapsAndDividesTowardZero() {
        List<TensorType> ts = List.of(t(DType.I32, 2), t(DType.I32, 2));
        assertArrayEquals(new double[] {Integer.MIN_VALUE, 0}, eval(new Primitive.Binary(BinaryFn.ADD), ts, new double[] {Integer.MAX_VALUE, -1}, new double[] {1, 1}));
        assertArrayEquals(new double[] {-3, 3}, eval(new Primitive.Binary(BinaryFn.DIV), ts, new double[] {-7, 7}, new double[] {2, 2}));
    }

    @Test void castTruncatesTowardZeroAndBoolIsNonZero() {
        double[] x = {-2.7, -0.5, 0, 0.5, 2.7};
        assertArrayEquals(new double[] {-2, 0, 0, 0, 2}, eval(new Primitive.Cast(DType.I32), List.of(t(F, 5)), x));
        assertArrayEquals(new double[] {1, 1, 0, 1, 1}, eval(new Primitive.Cast(DType.BOOL), List.of(t(F, 5)), x));
        // Narrowing float casts round; 1 + 2^-10 is not a bf16 (8 significant bits) but is an f16.
        double v = 1 + 0x1p-10;
        assertArrayEquals(new double[] {1}, eval(new Primitive.Cast(DType.BF16), List.of(t(F, 1)), new double[] {v}));
        assertArrayEquals(new double[] {v}, eval(new Primitive.Cast(DType.F16), List.of(t(F, 1)), new double[] {v}));
        assertArrayEquals(new double[] {(float) 0.1}, eval(new Primitive.Cast(F), List.of(t(DType.F64, 1)), new double[] {0.1}));
    }

    @Test void reduceOverInnerAndOuterAxes() {
        double[] x = {1, 2, 3, 4, 5, 6};
        TensorType in = t(F, 2, 3);
        assertArrayEquals(new double[] {6, 15}, eval(new Primitive.Reduce(ReduceFn.SUM, List.of(1), false), List.of(in), x));
        assertArrayEquals(new double[] {4, 5, 6}, eval(new Primitive.Reduce(ReduceFn.MAX, List.of(0), true), List.of(in), x));
        assertArrayEquals(new double[] {21}, eval(new Primitive.Reduce(ReduceFn.SUM, List.of(0, 1), false), List.of(in), x));
        double[] y = eval(new Primitive.Reduce(ReduceFn.SUM, List.of(0, 2), false), List.of(t(F, 2, 2, 2)), new double[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertArrayEquals(new double[] {1 + 2 + 5 + 6, 3 + 4 + 7 + 8}, y);
    }

    @Test void matmulWithEachTransposition() {
        // a = [[1,2,3],[4,5,6]], b = [[1,0],[0,1],[1,1]]: a @ b = [[4,5],[10,11]].
        double[] a = {1, 2, 3, 4, 5, 6}, b = {1, 0, 0, 1, 1, 1};
        double[] want = {4, 5, 10, 11};
        assertArrayEquals(want, eval(new Primitive.MatMul(false, false), List.of(t(F, 2, 3), t(F, 3, 2)), a, b));
        double[] aT = {1, 4, 2, 5, 3, 6}, bT = {1, 0, 1, 0, 1, 1};
        assertArrayEquals(want, eval(new Primitive.MatMul(true, false), List.of(t(F, 3, 2), t(F, 3, 2)), aT, b));
        assertArrayEquals(want, eval(new Primitive.MatMul(false, true), List.of(t(F, 2, 3), t(F, 2, 3)), a, bT));
        assertArrayEquals(want, eval(new Primitive.MatMul(true, true), List.of(t(F, 3, 2), t(F, 2, 3)), aT, bT));
        double[] batched = eval(new Primitive.MatMul(false, false), List.of(t(F, 2, 1, 2), t(F, 2, 2, 1)), new double[] {1, 2, 3, 4}, new double[] {1, 1, 2, 2});
        assertArrayEquals(new double[] {3, 14}, batched);
    }

    @Test void movement() {
        double[] x = {0, 1, 2, 3, 4, 5};
        assertArrayEquals(new double[] {0, 3, 1, 4, 2, 5}, eval(new Primitive.Permute(List.of(1, 0)), List.of(t(F, 2, 3)), x));
        // [2,1,3] -> perm (2,0,1) -> [3,2,1]: out[k,i,0] = x[i,0,k].
        assertArrayEquals(new double[] {0, 3, 1, 4, 2, 5}, eval(new Primitive.Permute(List.of(2, 0, 1)), List.of(t(F, 2, 1, 3)), x));
        assertArrayEquals(new double[] {1, 2, 4, 5}, eval(new Primitive.Slice(1, 1, 3), List.of(t(F, 2, 3)), x));
        assertArrayEquals(new double[] {7, 8, 7, 8}, eval(new Primitive.Broadcast(Shape.of(2, 2)), List.of(t(F, 2)), new double[] {7, 8}));
        assertArrayEquals(new double[] {7, 7, 8, 8}, eval(new Primitive.Broadcast(Shape.of(2, 2)), List.of(t(F, 2, 1)), new double[] {7, 8}));
        double[] cat = eval(new Primitive.Concat(1), List.of(t(F, 2, 1), t(F, 2, 2)), new double[] {9, 8}, new double[] {1, 2, 3, 4});
        assertArrayEquals(new double[] {9, 1, 2, 8, 3, 4}, cat);
    }

    @Test void gatherAndScatterAddAreAdjoint() {
        double[] x = {0, 1, 10, 11, 20, 21};
        assertArrayEquals(new double[] {20, 21, 0, 1, 20, 21}, eval(new Primitive.Gather(0), List.of(t(F, 3, 2), t(DType.I32, 3)), x, new double[] {2, 0, 2}));
        assertArrayEquals(new double[] {1, 0, 11, 10, 21, 20}, eval(new Primitive.Gather(1), List.of(t(F, 3, 2), t(DType.I64, 2)), x, new double[] {1, 0}));
        assertArrayEquals(new double[] {10, 11}, eval(new Primitive.Gather(0), List.of(t(F, 3, 2), t(DType.I32)), x, new double[] {1}));
        double[] s = eval(new Primitive.ScatterAdd(0, Shape.of(3, 2)), List.of(t(DType.I32, 3), t(F, 3, 2)), new double[] {2, 0, 2}, new double[] {1, 2, 3, 4, 5, 6});
        assertArrayEquals(new double[] {3, 4, 0, 0, 6, 8}, s);
        assertThrows(IndexOutOfBoundsException.class, () -> eval(new Primitive.Gather(0), List.of(t(F, 3, 2), t(DType.I32, 1)), x, new double[] {3}));
    }

    @Test void sources() {
        assertArrayEquals(new double[] {0, 1, 2, 0, 1, 2}, eval(new Primitive.Iota(1, t(F, 2, 3)), List.of()));
        assertArrayEquals(new double[] {0, 0, 0, 1, 1, 1}, eval(new Primitive.Iota(0, t(DType.I32, 2, 3)), List.of()));
        assertArrayEquals(new double[] {-3, -3}, eval(new Primitive.Fill(-3.7, t(DType.I64, 2)), List.of()));
        double[] r = eval(new Primitive.RandomUniform(t(F, 3)), List.of(t(DType.I64)), new double[] {42});
        for (int i = 0; i < 3; i++) assertEquals(Primitive.RandomUniform.sample(42, i), r[i]);
    }

    @Test void whereSelectsWithBroadcasting() {
        double[] y = eval(new Primitive.Where(), List.of(t(DType.BOOL, 2, 1), t(F, 2), t(F)), new double[] {1, 0}, new double[] {5, 6}, new double[] {-1});
        assertArrayEquals(new double[] {5, 6, -1, -1}, y);
    }

    @Test void compositesFollowTheirDefinitions() {
        double[] sm = eval(new Composite.Softmax(0), List.of(t(F, 2)), new double[] {0, Math.log(3)});
        assertArrayEquals(new double[] {0.25, 0.75}, sm, 1e-15);
        // Cross-entropy of uniform logits over 4 classes is log 4 whatever the labels.
        double[] ce = eval(new Composite.SoftmaxCrossEntropy(), List.of(t(F, 2, 4), t(DType.I32, 2)), new double[8], new double[] {3, 0});
        assertArrayEquals(new double[] {Math.log(4)}, ce, 1e-15);
        double[] lin = eval(new Composite.Linear(Composite.Activation.RELU), List.of(t(F, 1, 2), t(F, 2, 2), t(F, 2)),
                new double[] {1, 2}, new double[] {1, 1, -1, -1}, new double[] {0.5, 0.5});
        assertArrayEquals(new double[] {3.5, 0}, lin);
        List<double[]> sgd = Reference.evalNode(new Composite.SgdUpdate(0.5, false, 0), List.of(t(F, 1), t(F, 1), t(F, 1), t(F)),
                List.of(new double[] {1}, new double[] {2}, new double[] {4}, new double[] {0.1}));
        assertArrayEquals(new double[] {4}, sgd.get(1)); // v' = 0.5 * 4 + 2
        assertArrayEquals(new double[] {0.6}, sgd.get(0), 1e-15); // p' = 1 - 0.1 * 4
    }

    @Test void hostDataRoundsLikeTheDevice() {
        double[] x = {1 + 0x1p-9, 1 + 3 * 0x1p-9, -0.0, 65504};
        assertArrayEquals(new double[] {1, 1 + 0x1p-7, -0.0, 65536}, HostData.roundTrip(x, t(DType.BF16, 4)));
        assertArrayEquals(new double[] {1, 0, 1}, HostData.roundTrip(new double[] {2, 0, Double.NaN}, t(DType.BOOL, 3)));
        assertArrayEquals(new double[] {-1, 127}, HostData.roundTrip(new double[] {-1.9, 127}, t(DType.I8, 2)));
    }
}
