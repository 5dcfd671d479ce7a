package dev.kiln.accel.xla.hlo;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Reduce} as {@code stablehlo.reduce} with an init constant and a one-op region: sum starts
 * at 0 with {@code add}, max at the type's least value ({@code -inf} for floats) with
 * {@code maximum}; on bool both are {@code or}, which is what the reference's sum and max of 0s
 * and 1s become when stored as bool. Half-precision sums accumulate in f32 and round once, nearer
 * the reference's float64 than a bf16 running sum.
 */
final class StableHloReduce {
    private final StableHloWriter w;

    StableHloReduce(StableHloWriter w) { this.w = w; }

    /** Reduces {@code axes} (ascending) away, then reshapes to keep them as size 1 when asked. */
    Ssa reduce(ReduceFn fn, Ssa x, List<Integer> axes, boolean keepDims) {
        if (axes.isEmpty()) return w.copy(x);
        boolean widen = fn == ReduceFn.SUM && x.element().isHalf();
        Ssa in = w.convert(x, widen ? HloElement.F32 : x.element());
        HloElement e = in.element();
        Ssa init = fn == ReduceFn.SUM ? w.constant(0, e) : least(e);
        String combiner = e.isBool() ? "or" : fn == ReduceFn.SUM ? "add" : "maximum";
        Ssa r = w.withCombiner("reduce", e, dropped(x.shape(), axes), combiner, e,
                "dimensions = " + StableHloWriter.i64Array(StableHloWriter.ints(axes)), in, init);
        r = w.convert(r, x.element());
        return keepDims ? w.reshape(r, kept(x.shape(), axes)) : r;
    }

    private Ssa least(HloElement e) {
        if (e.isFloat()) return w.constant(Double.NEGATIVE_INFINITY, e);
        return w.integer(e.minInteger(), e);
    }

    static Shape dropped(Shape s, List<Integer> axes) {
        List<Integer> d = new ArrayList<>();
        for (int i = 0; i < s.rank(); i++) if (!axes.contains(i)) d.add(s.dim(i));
        return Shape.of(StableHloWriter.ints(d));
    }

    static Shape kept(Shape s, List<Integer> axes) {
        int[] d = s.dims();
        for (int a : axes) d[a] = 1;
        return Shape.of(d);
    }
}
