package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Softmax cross-entropy forward and backward on f32 logits [n, c], one pass over each row, in
 * double (rows are short; the decomposition takes nine kernels and as many temporaries). A label
 * outside [0, c) selects no class, as the decomposition's one-hot does.
 */
final class JavaLoss {
    private JavaLoss() {}

    /** Mean over rows of {@code logsumexp(row) - row[label]}. */
    static Kernel forward(int n, int c, DType labels) {
        float[] row = new float[c];
        return (in, out) -> {
            double total = 0;
            for (int i = 0; i < n; i++) {
                MemorySegment.copy(in[0], ValueLayout.JAVA_FLOAT, (long) i * c * 4, row, 0, c);
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < c; j++) max = Math.max(max, row[j]);
                double sum = 0;
                for (int j = 0; j < c; j++) sum += Math.exp(row[j] - max);
                long label = label(in[1], labels, i);
                if (label >= 0 && label < c) total += Math.log(sum) - (row[(int) label] - max);
            }
            out[0].set(ValueLayout.JAVA_FLOAT, 0, (float) (total / n));
        };
    }

    /** {@code (softmax(row) - onehot(label)) * g / n}. */
    static Kernel backward(int n, int c, DType labels) {
        float[] row = new float[c];
        double[] e = new double[c];
        return (in, out) -> {
            double scale = in[2].get(ValueLayout.JAVA_FLOAT, 0) * (double) (1f / n);
            for (int i = 0; i < n; i++) {
                long at = (long) i * c * 4;
                MemorySegment.copy(in[0], ValueLayout.JAVA_FLOAT, at, row, 0, c);
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < c; j++) max = Math.max(max, row[j]);
                double sum = 0;
                for (int j = 0; j < c; j++) sum += e[j] = Math.exp(row[j] - max);
                long label = label(in[1], labels, i);
                double inv = 1 / sum;
                for (int j = 0; j < c; j++) row[j] = (float) ((e[j] * inv - (j == label ? 1 : 0)) * scale);
                MemorySegment.copy(row, 0, out[0], ValueLayout.JAVA_FLOAT, at, c);
            }
        };
    }

    private static long label(MemorySegment s, DType t, int i) {
        return t == DType.I64 ? s.getAtIndex(ValueLayout.JAVA_LONG, i) : s.getAtIndex(ValueLayout.JAVA_INT, i);
    }
}
