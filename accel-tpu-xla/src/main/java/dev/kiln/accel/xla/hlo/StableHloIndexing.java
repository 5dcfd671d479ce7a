package dev.kiln.accel.xla.hlo;

import static dev.kiln.accel.xla.hlo.StableHloWriter.i64Array;
import static dev.kiln.accel.xla.hlo.StableHloWriter.list;

import dev.kiln.core.Shape;

/**
 * Gather and its adjoint ScatterAdd, as {@code stablehlo.gather} and {@code stablehlo.scatter}
 * with one indexed axis. For {@code x[o..., n, p...]} and indices of shape {@code I}, the result
 * is {@code [o..., I..., p...]}: the indexed axis is collapsed, each index is a one-element start
 * vector ({@code index_vector_dim} is the indices' rank, an implicit trailing 1), and the kept
 * axes of x are the result's offset dimensions around the index dimensions. An index out of range
 * is clamped by gather and dropped by scatter, where the reference throws: a runtime check would
 * need a host round trip.
 */
final class StableHloIndexing {
    private final StableHloWriter w;

    StableHloIndexing(StableHloWriter w) { this.w = w; }

    Ssa gather(Ssa x, Ssa idx, int axis, Shape out) {
        int[] sizes = x.shape().dims();
        sizes[axis] = 1;
        String numbers = "#stablehlo.gather<" + join(
                field("offset_dims", windowDims(x.rank(), idx.rank(), axis)),
                field("collapsed_slice_dims", axis),
                field("start_index_map", axis),
                "index_vector_dim = " + idx.rank()) + ">";
        return w.op("gather", x.element(), out, "dimension_numbers = " + numbers + ", indices_are_sorted = false, slice_sizes = " + i64Array(sizes), x, idx);
    }

    /** Zeros of {@code shape} with {@code updates} added at {@code idx}; duplicates add up. Half precision accumulates in f32. */
    Ssa scatterAdd(Ssa idx, Ssa updates0, int axis, Shape shape) {
        HloElement e = updates0.element();
        Ssa updates = w.convert(updates0, e.isHalf() ? HloElement.F32 : e);
        Ssa zeros = w.splat(0, updates.element(), shape);
        String numbers = "#stablehlo.scatter<" + join(
                field("update_window_dims", windowDims(shape.rank(), idx.rank(), axis)),
                field("inserted_window_dims", axis),
                field("scatter_dims_to_operand_dims", axis),
                "index_vector_dim = " + idx.rank()) + ">";
        Ssa r = w.withCombiner("scatter", updates.element(), shape, e.isBool() ? "or" : "add", updates.element(),
                "indices_are_sorted = false, scatter_dimension_numbers = " + numbers + ", unique_indices = false", zeros, idx, updates);
        return w.convert(r, e);
    }

    /** The result axes that come from x: those before the index dimensions and those after them. */
    private static int[] windowDims(int xRank, int idxRank, int axis) {
        int[] d = new int[xRank - 1];
        for (int i = 0; i < d.length; i++) d[i] = i < axis ? i : i + idxRank;
        return d;
    }

    /** {@code name = [..]}, or nothing for an empty list: the attribute parsers omit empty fields when printing, so that is the form they surely read. */
    private static String field(String name, int... values) { return values.length == 0 ? "" : name + " = " + list(values); }

    private static String join(String... fields) {
        return String.join(", ", java.util.Arrays.stream(fields).filter(f -> !f.isEmpty()).toList());
    }
}
