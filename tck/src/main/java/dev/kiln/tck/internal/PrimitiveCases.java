package dev.kiln.tck.internal;

import static dev.kiln.tck.internal.Names.shape;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.BinaryFn;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import dev.kiln.spi.ir.Primitive.UnaryFn;
import dev.kiln.spi.ir.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Cases for every primitive, with {@code f} as the floating type. Shapes favour odd sizes (1, 7,
 * 13, 33) that catch vector-tail bugs, and broadcasting in every direction.
 */
public final class PrimitiveCases {
    private PrimitiveCases() {}

    private static final Sampler UNIFORM = Sampler.uniform(-2, 2);
    private static final Sampler POSITIVE = Sampler.uniform(0.1, 2);
    private static final List<Integer> NONE = List.of();

    public static List<OpCase> all(DType f) {
        List<OpCase> c = new ArrayList<>();
        unary(c, f);
        binary(c, f);
        integerBinary(c);
        where(c, f);
        cast(c, f);
        reduce(c, f);
        matmul(c, f);
        WindowCases.primitives(c, f);
        movement(c, f);
        indexing(c, f);
        sources(c, f);
        return c;
    }

    static TensorType t(DType d, int... dims) { return TensorType.of(d, dims); }

    private static String lower(Enum<?> e) { return e.name().toLowerCase(Locale.ROOT); }

    private static void unary(List<OpCase> c, DType f) {
        int[][] shapes = {{1}, {7}, {3, 13}, {2, 3, 33}, {}};
        for (UnaryFn fn : UnaryFn.values()) {
            Sampler s = switch (fn) {
                case LOG, SQRT -> POSITIVE;
                case RELU, ABS -> Sampler.nonZero(0.05, 2);
                // Past 3, where erf switches from its series to erfc's continued fraction.
                case ERF -> Sampler.uniform(-4.5, 4.5);
                default -> UNIFORM;
            };
            for (int[] d : shapes) {
                TensorType x = t(f, d);
                c.add(new OpCase(lower(fn), lower(fn) + " " + shape(x), new Primitive.Unary(fn), List.of(x), List.of(s), List.of(0), 1));
            }
        }
    }

    private static final int[][][] BROADCAST_PAIRS = {
        {{7}, {7}}, {{3, 1}, {1, 4}}, {{5}, {2, 3, 5}}, {{}, {3, 4}}, {{2, 1, 13}, {3, 1}}, {{33}, {}}, {{1}, {1}},
    };

    private static void binary(List<OpCase> c, DType f) {
        for (BinaryFn fn : BinaryFn.values()) {
            Sampler a = switch (fn) {
                case POW -> POSITIVE;
                case EQ, GT, LT -> Sampler.integers(-2, 3);
                default -> UNIFORM;
            };
            Sampler b = switch (fn) {
                case DIV -> Sampler.nonZero(0.5, 2);
                case EQ, GT, LT -> Sampler.integers(-2, 3);
                default -> UNIFORM;
            };
            List<Integer> wrt = fn.isComparison() ? NONE : List.of(0, 1);
            for (int[][] p : BROADCAST_PAIRS) {
                TensorType x = t(f, p[0]), y = t(f, p[1]);
                String name = lower(fn) + " " + shape(x) + "+" + shape(y);
                c.add(new OpCase(lower(fn), name, new Primitive.Binary(fn), List.of(x, y), List.of(a, b), wrt, 1));
            }
        }
    }

    /** Integer arithmetic the runtime relies on for indices and counters; division is left out (the IR does not define its rounding). */
    private static void integerBinary(List<OpCase> c) {
        Sampler ints = Sampler.integers(-5, 6);
        for (BinaryFn fn : List.of(BinaryFn.ADD, BinaryFn.SUB, BinaryFn.MUL, BinaryFn.MAX, BinaryFn.MIN, BinaryFn.EQ, BinaryFn.GT, BinaryFn.LT)) {
            for (DType d : List.of(DType.I32, DType.I64)) {
                TensorType x = t(d, 3, 1), y = t(d, 1, 4);
                String name = lower(fn) + " " + d.label() + " " + shape(x) + "+" + shape(y);
                c.add(new OpCase(lower(fn), name, new Primitive.Binary(fn), List.of(x, y), List.of(ints, ints), NONE, 1));
            }
        }
    }

    private static void where(List<OpCase> c, DType f) {
        int[][][] shapes = {{{3, 4}, {3, 4}, {3, 4}}, {{3, 1}, {1, 4}, {3, 4}}, {{}, {5}, {2, 5}}, {{2, 3, 5}, {5}, {}}, {{7}, {1}, {7}}};
        for (int[][] s : shapes) {
            TensorType cond = t(DType.BOOL, s[0]), a = t(f, s[1]), b = t(f, s[2]);
            String name = "where " + shape(cond) + "?" + shape(a) + ":" + shape(b);
            c.add(new OpCase("where", name, new Primitive.Where(), List.of(cond, a, b), List.of(Sampler.bools(), UNIFORM, UNIFORM), List.of(1, 2), 1));
        }
    }

    private static void cast(List<OpCase> c, DType f) {
        for (DType other : DType.values()) {
            if (other == f) continue;
            for (int[] d : new int[][] {{7}, {3, 13}}) {
                TensorType from = t(f, d), to = t(other, d);
                // Only a widening float cast is differentiable with finite differences; narrowing rounds.
                List<Integer> wrt = f == DType.F32 && other == DType.F64 ? List.of(0) : NONE;
                c.add(new OpCase("cast", "cast " + f.label() + "->" + other.label() + " " + shape(from),
                        new Primitive.Cast(other), List.of(from), List.of(Sampler.castable()), wrt, 1));
                Sampler back = other == DType.BOOL ? Sampler.bools() : other.isFloating() ? UNIFORM : Sampler.integers(-100, 100);
                c.add(new OpCase("cast", "cast " + other.label() + "->" + f.label() + " " + shape(to),
                        new Primitive.Cast(f), List.of(to), List.of(back), NONE, 1));
            }
        }
    }

    private static void reduce(List<OpCase> c, DType f) {
        Object[][] specs = {
            {new int[] {7}, List.of(0)}, {new int[] {3, 13}, List.of(0)}, {new int[] {3, 13}, List.of(1)},
            {new int[] {3, 13}, List.of(0, 1)}, {new int[] {2, 5, 7}, List.of(0, 2)}, {new int[] {2, 5, 7}, List.of(1)},
            {new int[] {1, 33}, List.of(1)}, {new int[] {33}, List.of(0)}, {new int[] {1}, List.of(0)}, {new int[] {1, 1}, List.of(0, 1)},
            {new int[] {13, 1}, List.of(1)},
        };
        for (ReduceFn fn : ReduceFn.values()) {
            for (Object[] s : specs) {
                for (boolean keep : new boolean[] {false, true}) {
                    @SuppressWarnings("unchecked") List<Integer> axes = (List<Integer>) s[1];
                    TensorType x = t(f, (int[]) s[0]);
                    int n = 1;
                    for (int a : axes) n *= x.shape().dim(a);
                    Primitive.Reduce op = new Primitive.Reduce(fn, axes, keep);
                    String name = op.opName() + " " + shape(x) + " axes " + axes.toString().replace(" ", "") + (keep ? " keepdims" : "");
                    c.add(new OpCase(op.opName(), name, op, List.of(x), List.of(UNIFORM), List.of(0), n));
                }
            }
        }
    }

    private static void matmul(List<OpCase> c, DType f) {
        int[][] mkn = {{7, 13, 5}, {1, 1, 1}, {1, 33, 1}, {3, 33, 2}, {13, 7, 33}};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int[] d : mkn) add(c, f, ta, tb, 0, d[0], d[1], d[2]);
                add(c, f, ta, tb, 2, 3, 7, 5);
                add(c, f, ta, tb, 3, 1, 13, 1);
            }
        }
    }

    private static void add(List<OpCase> c, DType f, boolean ta, boolean tb, int batch, int m, int k, int n) {
        int[] a = ta ? new int[] {k, m} : new int[] {m, k};
        int[] b = tb ? new int[] {n, k} : new int[] {k, n};
        TensorType x = batch == 0 ? t(f, a) : t(f, batch, a[0], a[1]);
        TensorType y = batch == 0 ? t(f, b) : t(f, batch, b[0], b[1]);
        String name = "matmul" + (ta ? " transA" : "") + (tb ? " transB" : "") + " " + shape(x) + "x" + shape(y);
        c.add(new OpCase("matmul", name, new Primitive.MatMul(ta, tb), List.of(x, y), List.of(UNIFORM, UNIFORM), List.of(0, 1), k));
    }

    private static void movement(List<OpCase> c, DType f) {
        List<Integer> first = List.of(0);
        int[][][] reshapes = {{{3, 4}, {12}}, {{2, 3, 5}, {5, 6}}, {{}, {1, 1}}, {{7}, {1, 7, 1}}, {{1, 33}, {33}}};
        for (int[][] r : reshapes) {
            TensorType x = t(f, r[0]);
            c.add(new OpCase("reshape", "reshape " + shape(x) + "->" + shape(Shape.of(r[1])), new Primitive.Reshape(Shape.of(r[1])), List.of(x), List.of(UNIFORM), first, 1));
        }
        Object[][] perms = {{new int[] {3, 4}, List.of(1, 0)}, {new int[] {2, 3, 5}, List.of(2, 0, 1)}, {new int[] {2, 3, 5}, List.of(1, 0, 2)},
            {new int[] {7}, List.of(0)}, {new int[] {2, 3, 4, 5}, List.of(3, 1, 0, 2)}, {new int[] {1, 13}, List.of(1, 0)}};
        for (Object[] p : perms) {
            TensorType x = t(f, (int[]) p[0]);
            @SuppressWarnings("unchecked") List<Integer> perm = (List<Integer>) p[1];
            c.add(new OpCase("permute", "permute " + shape(x) + " " + perm.toString().replace(" ", ""), new Primitive.Permute(perm), List.of(x), List.of(UNIFORM), first, 1));
        }
        int[][][] broadcasts = {{{3, 1}, {3, 4}}, {{}, {2, 3}}, {{5}, {2, 3, 5}}, {{1, 5}, {4, 1, 5}}, {{2, 1, 3}, {2, 7, 3}}, {{7}, {7}}};
        for (int[][] b : broadcasts) {
            TensorType x = t(f, b[0]);
            // Summing back a broadcast adds up to (target size / source size) terms.
            int n = (int) (Shape.of(b[1]).size() / Math.max(1, x.shape().size()));
            c.add(new OpCase("broadcast", "broadcast " + shape(x) + "->" + shape(Shape.of(b[1])), new Primitive.Broadcast(Shape.of(b[1])), List.of(x), List.of(UNIFORM), first, n));
        }
        Object[][] slices = {{new int[] {7}, 0, 2, 5}, {new int[] {3, 13}, 1, 0, 1}, {new int[] {3, 13}, 0, 1, 3},
            {new int[] {2, 3, 33}, 2, 5, 33}, {new int[] {5}, 0, 0, 5}};
        for (Object[] s : slices) {
            TensorType x = t(f, (int[]) s[0]);
            int axis = (Integer) s[1], start = (Integer) s[2], end = (Integer) s[3];
            c.add(new OpCase("slice", "slice " + shape(x) + " axis " + axis + " [" + start + "," + end + ")", new Primitive.Slice(axis, start, end), List.of(x), List.of(UNIFORM), first, 1));
        }
        concat(c, f, 0, new int[][] {{2, 3}, {5, 3}});
        concat(c, f, 1, new int[][] {{3, 1}, {3, 4}, {3, 2}});
        concat(c, f, 0, new int[][] {{7}});
        concat(c, f, 2, new int[][] {{2, 3, 1}, {2, 3, 4}});
        concat(c, f, 1, new int[][] {{2, 13, 3}, {2, 1, 3}});
    }

    private static void concat(List<OpCase> c, DType f, int axis, int[][] shapes) {
        List<TensorType> in = new ArrayList<>();
        List<Sampler> s = new ArrayList<>();
        List<Integer> wrt = new ArrayList<>();
        StringBuilder name = new StringBuilder("concat axis " + axis);
        for (int[] d : shapes) {
            wrt.add(in.size());
            in.add(t(f, d));
            s.add(UNIFORM);
            name.append(' ').append(shape(in.getLast()));
        }
        c.add(new OpCase("concat", name.toString(), new Primitive.Concat(axis), in, s, wrt, 1));
    }

    private static void indexing(List<OpCase> c, DType f) {
        gather(c, t(f, 7, 5), t(DType.I32, 9), 0);
        gather(c, t(f, 3, 13), t(DType.I64, 2, 2), 1);
        gather(c, t(f, 4), t(DType.I32), 0);
        gather(c, t(f, 2, 6, 3), t(DType.I32, 5), 1);
        gather(c, t(f, 33), t(DType.I64, 1), 0);
        scatter(c, f, Shape.of(7, 5), t(DType.I32, 9), 0);
        scatter(c, f, Shape.of(3, 4), t(DType.I64, 2, 3), 1);
        scatter(c, f, Shape.of(5), t(DType.I32), 0);
        scatter(c, f, Shape.of(2, 6, 3), t(DType.I32, 13), 1);
    }

    private static void gather(List<OpCase> c, TensorType x, TensorType idx, int axis) {
        String name = "gather axis " + axis + " " + shape(x) + " at " + idx.dtype().label() + shape(idx);
        // Indices repeat (9 draws from 7 rows) so scatter-add in the backward pass must accumulate.
        c.add(new OpCase("gather", name, new Primitive.Gather(axis), List.of(x, idx),
                List.of(UNIFORM, Sampler.integers(0, x.shape().dim(axis))), List.of(0), 1));
    }

    private static void scatter(List<OpCase> c, DType f, Shape target, TensorType idx, int axis) {
        Primitive.ScatterAdd op = new Primitive.ScatterAdd(axis, target);
        TensorType updates = t(f, gathered(target, idx.shape(), axis));
        String name = "scatteradd axis " + axis + " into " + shape(target) + " at " + idx.dtype().label() + shape(idx);
        int repeats = (int) Math.max(1, idx.shape().size());
        c.add(new OpCase("scatteradd", name, op, List.of(idx, updates),
                List.of(Sampler.integers(0, target.dim(axis)), UNIFORM), List.of(1), repeats));
    }

    private static int[] gathered(Shape x, Shape idx, int axis) {
        List<Integer> d = new ArrayList<>();
        for (int i = 0; i < axis; i++) d.add(x.dim(i));
        for (int i = 0; i < idx.rank(); i++) d.add(idx.dim(i));
        for (int i = axis + 1; i < x.rank(); i++) d.add(x.dim(i));
        return d.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void sources(List<OpCase> c, DType f) {
        Object[][] fills = {{1.5, t(f, 3, 4)}, {-0.25, t(f)}, {7.0, t(DType.I32, 5)}, {1.0, t(DType.BOOL, 2, 3)}, {-3.7, t(DType.I64, 2)}, {2.5, t(f, 33)}};
        for (Object[] fl : fills) {
            TensorType type = (TensorType) fl[1];
            c.add(new OpCase("fill", "fill " + fl[0] + " " + type.dtype().label() + shape(type), new Primitive.Fill((Double) fl[0], type), List.of(), List.of(), NONE, 1));
        }
        Object[][] iotas = {{0, t(f, 5)}, {1, t(f, 3, 4)}, {0, t(DType.I32, 2, 7)}, {1, t(DType.I64, 2, 7)}, {2, t(f, 2, 3, 4)}, {0, t(f, 1)}};
        for (Object[] io : iotas) {
            TensorType type = (TensorType) io[1];
            int axis = (Integer) io[0];
            c.add(new OpCase("iota", "iota axis " + axis + " " + type.dtype().label() + shape(type), new Primitive.Iota(axis, type), List.of(), List.of(), NONE, 1));
        }
        long[] seeds = {42, (1L << 40) + 7, 0, -3};
        int[][] shapes = {{7, 13}, {1}, {33}, {2, 3, 5}};
        for (int i = 0; i < seeds.length; i++) {
            TensorType type = t(f, shapes[i]);
            c.add(new OpCase("randomuniform", "randomuniform seed " + seeds[i] + " " + shape(type), new Primitive.RandomUniform(type),
                    List.of(t(DType.I64)), List.of(Sampler.constant(seeds[i])), NONE, 1));
        }
    }
}
