package dev.kiln.api.train;

import dev.kiln.api.data.Batch;
import dev.kiln.core.Shape;

/**
 * A quantity measured on the host from each batch's model output and targets and accumulated
 * over an epoch or an evaluation, as a Keras metric or a torchmetrics {@code Metric}. A metric
 * keeps no state itself: it adds each batch's contribution to {@link #stateSize()} running sums
 * the trainer owns, so one metric object serves training and validation at once, and in a
 * process group the sums of every rank are simply added (torchmetrics'
 * {@code dist_reduce_fx="sum"}) before {@link #compute}.
 *
 * <pre>{@code
 * Trainer.builder(kiln, model).loss(Loss.mse()).metrics(Metric.meanAbsoluteError(), Metric.rootMeanSquaredError())...
 * trainer.evaluate(test).metric("rmse");
 * }</pre>
 *
 * <p>The built-ins: {@link #accuracy()} and {@link #topK} for integer class labels;
 * {@link #meanAbsoluteError()}, {@link #meanSquaredError()} and {@link #rootMeanSquaredError()}
 * for float targets of the output's shape; {@link #binaryAccuracy} for multi-label 0/1 targets. A
 * metric refuses, in {@link #check}, targets it cannot measure, naming them.
 */
public interface Metric {
    /** The key of the value in {@link Evaluation#metrics()} and {@link EpochLogs#metrics()} (with {@code val_} for validation). */
    String name();

    /** How many running sums the metric keeps. */
    int stateSize();

    /**
     * Fails with {@link IllegalArgumentException} when the metric cannot be measured on this
     * output (shape {@code outputShape}, batch dimension first) and {@code batch}'s targets;
     * called before the first batch's {@link #update}, and again whenever the batch size changes.
     */
    default void check(Shape outputShape, Batch batch) {}

    /** Adds the batch's contribution to {@code sums}; {@code output} holds {@code outputShape.size()} floats, row-major. */
    void update(float[] output, Shape outputShape, Batch batch, double[] sums);

    /** The metric over every batch added to {@code sums}; NaN when there were none. */
    double compute(double[] sums);

    /** Fraction of integer labels that are their row's largest output, as Keras' {@code accuracy} with integer labels. */
    static Metric accuracy() { return new Metrics.TopK("accuracy", 1); }

    /**
     * Fraction of integer labels among their row's {@code k} largest outputs, as Keras'
     * {@code SparseTopKCategoricalAccuracy(k)}; named {@code top<k>_accuracy}.
     */
    static Metric topK(int k) {
        if (k < 1) throw new IllegalArgumentException("top-k accuracy needs k >= 1, got " + k);
        return new Metrics.TopK("top" + k + "_accuracy", k);
    }

    /** Mean of {@code |output - target|} over every element, as Keras' {@code mae}. */
    static Metric meanAbsoluteError() { return new Metrics.Elementwise("mae", false, false); }

    /** Mean of {@code (output - target)^2} over every element, as Keras' {@code mse}. */
    static Metric meanSquaredError() { return new Metrics.Elementwise("mse", true, false); }

    /** Square root of {@link #meanSquaredError()} over the whole set (not a mean of per-batch roots), as Keras' {@code RootMeanSquaredError}. */
    static Metric rootMeanSquaredError() { return new Metrics.Elementwise("rmse", true, true); }

    /**
     * Fraction of elements where {@code output > threshold} agrees with {@code target > 0.5}, for
     * multi-label 0/1 targets, as Keras' {@code BinaryAccuracy}: threshold 0 for logits (with
     * {@code Loss.bceWithLogits}), 0.5 for probabilities.
     */
    static Metric binaryAccuracy(double threshold) { return new Metrics.BinaryAccuracy(threshold); }
}
