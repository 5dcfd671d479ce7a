package dev.kiln.api.train;

import dev.kiln.api.data.Batch;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.Arrays;

/** Metrics computed on the host from a step's output: the classification helpers and the built-in {@link Metric}s. */
final class Metrics {
    private Metrics() {}

    /**
     * Accuracy ({@code k = 1}) and top-k accuracy over integer labels: one label per example with
     * output {@code [n, classes]}, or one per position ({@code [n, s]} with {@code [n, s, classes]}).
     */
    record TopK(String name, int k) implements Metric {
        @Override public int stateSize() { return 2; }

        @Override public void check(Shape outputShape, Batch batch) {
            Shape t = batch.targetShape();
            boolean fits = batch.targetType() == DType.I32 && outputShape.rank() == t.rank() + 1
                    && Arrays.equals(Arrays.copyOf(outputShape.dims(), t.rank()), t.dims());
            if (!fits) {
                throw new IllegalArgumentException(name + " needs integer class labels [n] and an output of one score per class [n, classes]"
                        + " (or labels [n, s] and output [n, s, classes]); got " + batch.targetType() + " targets " + t + " and output " + outputShape
                        + (batch.targetType() == DType.F32 ? "; for float targets use Metric.meanAbsoluteError(), rootMeanSquaredError() or binaryAccuracy(threshold)" : ""));
            }
        }

        @Override public void update(float[] output, Shape outputShape, Batch batch, double[] sums) {
            int positions = Math.toIntExact(batch.targetShape().size());
            if (positions == 0) return;
            int c = Math.toIntExact(outputShape.size() / positions);
            sums[0] += k == 1 ? correct(output, batch.labels(), positions, c) : topKCorrect(output, batch.labels(), positions, c, k);
            sums[1] += positions;
        }

        @Override public double compute(double[] sums) { return sums[0] / sums[1]; }
    }

    /** Mean absolute or squared error over every element of float targets of the output's shape; the root of the mean for RMSE. */
    record Elementwise(String name, boolean squared, boolean root) implements Metric {
        @Override public int stateSize() { return 2; }

        @Override public void check(Shape outputShape, Batch batch) { requireFloatTargetsLike(name, outputShape, batch); }

        @Override public void update(float[] output, Shape outputShape, Batch batch, double[] sums) {
            float[] y = batch.targets();
            int n = Math.toIntExact(outputShape.size());
            double sum = 0;
            for (int i = 0; i < n; i++) {
                double d = (double) output[i] - y[i];
                sum += squared ? d * d : Math.abs(d);
            }
            sums[0] += sum;
            sums[1] += n;
        }

        @Override public double compute(double[] sums) {
            double mean = sums[0] / sums[1];
            return root ? Math.sqrt(mean) : mean;
        }
    }

    /** Fraction of elements where {@code output > threshold} matches {@code target > 0.5}. */
    record BinaryAccuracy(double threshold) implements Metric {
        @Override public String name() { return "binary_accuracy"; }

        @Override public int stateSize() { return 2; }

        @Override public void check(Shape outputShape, Batch batch) { requireFloatTargetsLike(name(), outputShape, batch); }

        @Override public void update(float[] output, Shape outputShape, Batch batch, double[] sums) {
            float[] y = batch.targets();
            int n = Math.toIntExact(outputShape.size()), hits = 0;
            for (int i = 0; i < n; i++) if ((output[i] > threshold) == (y[i] > 0.5f)) hits++;
            sums[0] += hits;
            sums[1] += n;
        }

        @Override public double compute(double[] sums) { return sums[0] / sums[1]; }
    }

    private static void requireFloatTargetsLike(String metric, Shape outputShape, Batch batch) {
        if (batch.targetType() != DType.F32 || !batch.targetShape().equals(outputShape)) {
            throw new IllegalArgumentException(metric + " needs float targets of the output's shape " + outputShape + "; got "
                    + batch.targetType() + " targets " + batch.targetShape()
                    + (batch.targetType() == DType.I32 ? "; for class labels use Metric.accuracy() or Metric.topK(k)" : ""));
        }
    }

    /**
     * Refuses a dataset that claims more classes than the model has outputs: its labels would
     * index past a row of logits. PyTorch's cross-entropy and Keras' sparse one refuse such labels
     * too; fewer classes than outputs is fine, as there.
     */
    static void requireOutputPerClass(int outputs, dev.kiln.api.data.Dataset data) {
        if (data.numClasses() > outputs) {
            throw new IllegalArgumentException("the dataset " + data + " has " + data.numClasses() + " classes but the model outputs "
                    + outputs + " values per example; give the last layer " + data.numClasses() + " outputs");
        }
    }

    /** How many rows of {@code logits} [n, c] have their largest entry at the label. */
    static int correct(float[] logits, int[] labels, int n) {
        if (n == 0 || logits.length % n != 0) return 0;
        return correct(logits, labels, n, logits.length / n);
    }

    /** How many of {@code n} rows of {@code c} scores have their largest entry at the label. */
    static int correct(float[] logits, int[] labels, int n, int c) {
        int hits = 0;
        for (int i = 0; i < n; i++) if (argmax(logits, i * c, c) == labels[i]) hits++;
        return hits;
    }

    /**
     * How many labels are among their row's {@code k} largest entries. Ties rank the lower index
     * first, as {@link #argmax} does, so top-1 agrees with {@link #correct}.
     */
    static int topKCorrect(float[] logits, int[] labels, int n, int k) {
        if (n == 0 || logits.length % n != 0) return 0;
        return topKCorrect(logits, labels, n, logits.length / n, k);
    }

    /** {@link #topKCorrect(float[], int[], int, int)} for {@code n} rows of {@code c} scores. */
    static int topKCorrect(float[] logits, int[] labels, int n, int c, int k) {
        int hits = 0;
        for (int i = 0; i < n; i++) {
            float target = logits[i * c + labels[i]];
            int above = 0;
            for (int j = 0; j < c; j++) if (logits[i * c + j] > target || (logits[i * c + j] == target && j < labels[i])) above++;
            if (above < k) hits++;
        }
        return hits;
    }

    /** Adds each row's (label, arg-max) pair. */
    static void confusion(ConfusionMatrix m, float[] logits, int[] labels, int n) {
        if (n == 0 || logits.length % n != 0) return;
        int c = logits.length / n;
        for (int i = 0; i < n; i++) m.add(labels[i], argmax(logits, i * c, c));
    }

    /** Index of the first largest of {@code c} entries from {@code at}. */
    static int argmax(float[] v, int at, int c) {
        int best = 0;
        for (int j = 1; j < c; j++) if (v[at + j] > v[at + best]) best = j;
        return best;
    }
}
