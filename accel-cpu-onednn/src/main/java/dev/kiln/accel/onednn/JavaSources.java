package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.Elements.BLOCK;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;

/**
 * Ops without inputs. Fill and iota never change, so their bytes are computed once when the
 * kernel is made and each run is a copy; random numbers depend on the seed and are computed per run.
 */
final class JavaSources {
    private JavaSources() {}

    static Kernel fill(double value, TensorType t) {
        MemorySegment c = constant(t);
        long size = t.shape().size();
        double[] row = new double[(int) Math.min(size, BLOCK)];
        java.util.Arrays.fill(row, value);
        for (long i = 0; i < size; i += BLOCK) Elements.store(c, t.dtype(), i, row, (int) Math.min(BLOCK, size - i));
        return (in, out) -> out[0].copyFrom(c);
    }

    static Kernel iota(int axis, TensorType t) {
        MemorySegment c = constant(t);
        Shape s = t.shape();
        long inner = 1, outer = 1;
        for (int i = axis + 1; i < s.rank(); i++) inner *= s.dim(i);
        for (int i = 0; i < axis; i++) outer *= s.dim(i);
        double[] row = new double[(int) Math.min(inner, BLOCK)];
        for (long o = 0; o < outer; o++) {
            for (int k = 0; k < s.dim(axis); k++) {
                java.util.Arrays.fill(row, k);
                long at = (o * s.dim(axis) + k) * inner;
                for (long j = 0; j < inner; j += BLOCK) Elements.store(c, t.dtype(), at + j, row, (int) Math.min(BLOCK, inner - j));
            }
        }
        return (in, out) -> out[0].copyFrom(c);
    }

    /** Element {@code i} is {@link Primitive.RandomUniform#sample}(seed, i), so every plugin draws the same numbers. */
    static Kernel randomUniform(TensorType t) {
        long size = t.shape().size();
        DType d = t.dtype();
        return (in, out) -> {
            long seed = in[0].get(Elements.I64, 0);
            if (d == DType.F32) {
                for (long i = 0; i < size; i++) out[0].setAtIndex(Elements.F32, i, Primitive.RandomUniform.sample(seed, i));
                return;
            }
            double[] row = new double[(int) Math.min(size, BLOCK)];
            for (long i = 0; i < size; i += BLOCK) {
                int m = (int) Math.min(BLOCK, size - i);
                for (int j = 0; j < m; j++) row[j] = Primitive.RandomUniform.sample(seed, i + j);
                Elements.store(out[0], d, i, row, m);
            }
        };
    }

    /**
     * Memory that lives as long as the kernel: a Java array (8-byte aligned, as every dtype needs),
     * collected with it. Sliced to the exact size because the output of an empty tensor (a causal
     * mask over an empty sequence) is 0 bytes and cannot take the word the array is padded to.
     */
    private static MemorySegment constant(TensorType t) {
        long words = (t.byteSize() + 7) / 8;
        if (words > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("constant " + t + " is too large for one kernel");
        return MemorySegment.ofArray(new long[(int) Math.max(1, words)]).asSlice(0, t.byteSize());
    }
}
