package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.spi.Kernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Softmax cross-entropy forward and backward on f32 logits [n, c], one kernel each (the
 * decomposition takes nine kernels and as many temporaries), each row in double. The logits and
 * labels are copied in bulk into arrays made with the kernel: per-row copies of ten classes cost
 * more than the arithmetic. A label outside [0, c) selects no class, as the decomposition's
 * one-hot does.
 */
final class JavaLoss {
    private JavaLoss() {}

    /** Mean over rows of {@code logsumexp(row) - row[label]}. */
    static Kernel forward(int n, int c, DType labels) {
        float[] x = new float[n * c];
        long[] y = new long[n];
        return (in, out) -> {
            MemorySegment.copy(in[0], ValueLayout.JAVA_FLOAT, 0, x, 0, x.length);
            labels(in[1], labels, y);
            double total = 0;
            for (int i = 0, at = 0; i < n; i++, at += c) {
                double max = max(x, at, c), sum = 0;
                for (int j = at; j < at + c; j++) sum += Math.exp(x[j] - max);
                long label = y[i];
                if (label >= 0 && label < c) total += Math.log(sum) - (x[at + (int) label] - max);
            }
            out[0].set(ValueLayout.JAVA_FLOAT, 0, (float) (total / n));
        };
    }

    /** {@code (softmax(row) - onehot(label)) * g / n}. */
    static Kernel backward(int n, int c, DType labels) {
        float[] x = new float[n * c];
        long[] y = new long[n];
        double[] e = new double[c];
        return (in, out) -> {
            MemorySegment.copy(in[0], ValueLayout.JAVA_FLOAT, 0, x, 0, x.length);
            labels(in[1], labels, y);
            double scale = in[2].get(ValueLayout.JAVA_FLOAT, 0) * (double) (1f / n);
            for (int i = 0, at = 0; i < n; i++, at += c) {
                double max = max(x, at, c), sum = 0;
                for (int j = 0; j < c; j++) sum += e[j] = Math.exp(x[at + j] - max);
                double inv = 1 / sum;
                long label = y[i];
                for (int j = 0; j < c; j++) x[at + j] = (float) ((e[j] * inv - (j == label ? 1 : 0)) * scale);
            }
            MemorySegment.copy(x, 0, out[0], ValueLayout.JAVA_FLOAT, 0, x.length);
        };
    }

    private static double max(float[] x, int from, int c) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = from; j < from + c; j++) max = Math.max(max, x[j]);
        return max;
    }

    private static void labels(MemorySegment s, DType t, long[] y) {
        if (t == DType.I64) MemorySegment.copy(s, ValueLayout.JAVA_LONG, 0, y, 0, y.length);
        else for (int i = 0; i < y.length; i++) y[i] = s.getAtIndex(ValueLayout.JAVA_INT, i);
    }
}
