package dev.kiln.accel.xla.hlo;

import static dev.kiln.accel.xla.hlo.StableHloWriter.i64Array;

import dev.kiln.core.Shape;
import java.util.List;

/** Reshape, permute, broadcast, slice and concat: each is one StableHLO op with the same meaning. */
final class StableHloMovement {
    private final StableHloWriter w;

    StableHloMovement(StableHloWriter w) { this.w = w; }

    Ssa reshape(Ssa x, Shape shape) { return w.reshape(x, shape); }

    /** The IR's "output axis i is input axis perm[i]" is exactly transpose's {@code permutation}. */
    Ssa permute(Ssa x, List<Integer> perm, Shape out) {
        return w.op("transpose", x.element(), out, "permutation = " + i64Array(StableHloWriter.ints(perm)), x);
    }

    /** NumPy broadcasting: x's axes are the trailing ones of the result; size-1 axes stretch. */
    Ssa broadcast(Ssa x, Shape shape) {
        return w.broadcastInDim(x, shape, StableHloWriter.range(shape.rank() - x.rank(), shape.rank()));
    }

    Ssa slice(Ssa x, int axis, int start, int end, Shape out) {
        int[] from = new int[x.rank()], to = x.shape().dims(), step = new int[x.rank()];
        java.util.Arrays.fill(step, 1);
        from[axis] = start;
        to[axis] = end;
        return w.op("slice", x.element(), out, "start_indices = " + i64Array(from) + ", limit_indices = " + i64Array(to)
                + ", strides = " + i64Array(step), x);
    }

    Ssa concat(List<Ssa> xs, int axis, Shape out) {
        return w.op("concatenate", xs.getFirst().element(), out, "dimension = " + axis + " : i64", xs.toArray(Ssa[]::new));
    }
}
