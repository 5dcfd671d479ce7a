package dev.kiln.api.loss;

import dev.kiln.api.Tensor;
import java.util.Objects;

/**
 * A training objective: a floating scalar from a model's output and the targets (or, with
 * {@link Reduction#NONE}, one loss per element). The factories follow PyTorch's {@code torch.nn}
 * losses, with the same definitions and defaults.
 */
@FunctionalInterface
public interface Loss {
    Tensor compute(Tensor output, Tensor target);

    /** Mean softmax cross-entropy of logits [n, classes] against integer labels [n]: PyTorch's {@code CrossEntropyLoss()}. */
    static Loss softmaxCrossEntropy() { return Tensor::softmaxCrossEntropy; }

    /** {@code CrossEntropyLoss()}: the same as {@link #softmaxCrossEntropy()}. */
    static Loss crossEntropy() { return softmaxCrossEntropy(); }

    /**
     * {@code CrossEntropyLoss(label_smoothing=eps, reduction=r)} on logits [n, classes] and integer
     * labels [n]: {@code (1 - eps) * -log p[label] + eps * mean over classes of -log p}.
     */
    static Loss crossEntropy(double labelSmoothing, Reduction reduction) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new IllegalArgumentException("crossEntropy: label smoothing must be in [0, 1]: " + labelSmoothing);
        Objects.requireNonNull(reduction, "reduction");
        // Plain mean cross-entropy is the fused composite, which plugins run as one kernel.
        if (labelSmoothing == 0 && reduction == Reduction.MEAN) return softmaxCrossEntropy();
        return (output, target) -> {
            Losses.classification("crossEntropy", output, target);
            Tensor logp = output.logSoftmax(1);
            int classes = output.shape().dim(1);
            Tensor picked = logp.mul(target.oneHot(classes, output.dtype())).sum(1, false).neg();
            Tensor perRow = labelSmoothing == 0 ? picked
                    : picked.mul(1 - labelSmoothing).sub(logp.mean(1, false).mul(labelSmoothing));
            return reduction.apply(perRow);
        };
    }

    /** {@code NLLLoss(reduction=r)}: {@code -input[i, label[i]]} for log-probabilities [n, classes] and integer labels [n]. */
    static Loss nll(Reduction reduction) {
        Objects.requireNonNull(reduction, "reduction");
        return (output, target) -> {
            Losses.classification("nll", output, target);
            return reduction.apply(output.mul(target.oneHot(output.shape().dim(1), output.dtype())).sum(1, false).neg());
        };
    }

    /**
     * {@code BCEWithLogitsLoss(reduction=r)}: binary cross-entropy of logits against targets in
     * [0, 1] of the same shape, as {@code max(x, 0) - x y + log(1 + exp(-|x|))}, which never
     * overflows.
     */
    static Loss bceWithLogits(Reduction reduction) {
        Objects.requireNonNull(reduction, "reduction");
        return (x, y) -> {
            Losses.sameShape("bceWithLogits", x, y);
            return reduction.apply(x.relu().sub(x.mul(y)).add(x.abs().neg().exp().add(1).log()));
        };
    }

    /**
     * {@code BCELoss(reduction=r)}: binary cross-entropy of probabilities in [0, 1]; each log is
     * clamped at -100, as PyTorch does, so a probability of exactly 0 or 1 gives a finite loss.
     */
    static Loss binaryCrossEntropy(Reduction reduction) {
        Objects.requireNonNull(reduction, "reduction");
        return (p, y) -> {
            Losses.sameShape("binaryCrossEntropy", p, y);
            Tensor logP = p.log().maximum(p.scalarLike(-100)), log1mP = p.neg().add(1).log().maximum(p.scalarLike(-100));
            return reduction.apply(y.mul(logP).add(y.neg().add(1).mul(log1mP)).neg());
        };
    }

    /** Mean squared error between two tensors of one shape: {@code MSELoss()}. */
    static Loss mse() { return mse(Reduction.MEAN); }

    /** {@code MSELoss(reduction=r)}. */
    static Loss mse(Reduction reduction) {
        Objects.requireNonNull(reduction, "reduction");
        return (output, target) -> {
            Losses.sameShape("mse", output, target);
            Tensor d = output.sub(target);
            return reduction.apply(d.mul(d));
        };
    }

    /** {@code L1Loss(reduction=r)}: {@code |output - target|}. */
    static Loss l1(Reduction reduction) {
        Objects.requireNonNull(reduction, "reduction");
        return (output, target) -> {
            Losses.sameShape("l1", output, target);
            return reduction.apply(output.sub(target).abs());
        };
    }

    /** {@code HuberLoss(delta=delta, reduction=r)}: {@code d^2 / 2} below {@code delta}, {@code delta (|d| - delta / 2)} above. */
    static Loss huber(double delta, Reduction reduction) {
        if (!(delta > 0)) throw new IllegalArgumentException("huber: delta must be positive: " + delta);
        Objects.requireNonNull(reduction, "reduction");
        return (output, target) -> {
            Losses.sameShape("huber", output, target);
            return reduction.apply(Losses.huber(output.sub(target), delta));
        };
    }

    /** {@code SmoothL1Loss(beta=beta, reduction=r)}: Huber with {@code delta = beta}, divided by {@code beta}. */
    static Loss smoothL1(double beta, Reduction reduction) {
        if (!(beta > 0)) throw new IllegalArgumentException("smoothL1: beta must be positive: " + beta);
        Objects.requireNonNull(reduction, "reduction");
        return (output, target) -> {
            Losses.sameShape("smoothL1", output, target);
            return reduction.apply(Losses.huber(output.sub(target), beta).div(beta));
        };
    }
}
