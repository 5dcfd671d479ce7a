package dev.kiln.accel.onednn;

import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * f32 sum or max over one contiguous block of axes that is not innermost, e.g. a bias gradient
 * summed over the batch. oneDNN's reduction takes a slow generic path there (hundreds of
 * microseconds for a 64x784 batch sum), while adding whole rows into an accumulator row is
 * a loop the JIT vectorises. Sums accumulate in double.
 */
final class JavaReduceRows {
    private JavaReduceRows() {}

    /**
     * {@code {outer, reduced, inner}} when the reduced axes (ignoring axes of size one) form one
     * contiguous block with something after it; otherwise null.
     */
    static long[] plan(Primitive.Reduce op, Shape s) {
        long outer = 1, reduced = 1, inner = 1;
        int phase = 0; // 0: before the block, 1: inside it, 2: after it
        for (int i = 0; i < s.rank(); i++) {
            if (s.dim(i) == 1) continue;
            boolean r = op.axes().contains(i);
            if (r && phase == 2) return null;
            if (r) phase = 1;
            else if (phase == 1) phase = 2;
            if (phase == 0) outer *= s.dim(i);
            else if (phase == 1) reduced *= s.dim(i);
            else inner *= s.dim(i);
        }
        return phase == 2 && inner > 1 && inner <= Integer.MAX_VALUE ? new long[] {outer, reduced, inner} : null;
    }

    static Kernel create(ReduceFn fn, long[] plan) {
        long outer = plan[0], reduced = plan[1];
        int inner = (int) plan[2];
        boolean sum = fn == ReduceFn.SUM;
        return (in, out) -> {
            float[] row = new float[inner];
            double[] acc = sum ? new double[inner] : null;
            float[] max = sum ? null : new float[inner];
            for (long o = 0; o < outer; o++) {
                long base = o * reduced * inner;
                if (sum) java.util.Arrays.fill(acc, 0);
                else MemorySegment.copy(in[0], ValueLayout.JAVA_FLOAT, base * 4, max, 0, inner);
                for (long r = sum ? 0 : 1; r < reduced; r++) {
                    MemorySegment.copy(in[0], ValueLayout.JAVA_FLOAT, (base + r * inner) * 4, row, 0, inner);
                    if (sum) for (int j = 0; j < inner; j++) acc[j] += row[j];
                    else for (int j = 0; j < inner; j++) max[j] = Math.max(max[j], row[j]);
                }
                if (sum) for (int j = 0; j < inner; j++) row[j] = (float) acc[j];
                MemorySegment.copy(sum ? row : max, 0, out[0], ValueLayout.JAVA_FLOAT, o * inner * 4, inner);
            }
        };
    }
}
