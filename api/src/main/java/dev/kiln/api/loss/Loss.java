package dev.kiln.api.loss;

import dev.kiln.api.Tensor;

/** A training objective: a floating scalar from a model's output and the targets. */
@FunctionalInterface
public interface Loss {
    Tensor compute(Tensor output, Tensor target);

    /** Mean softmax cross-entropy of logits [n, classes] against integer labels [n]. */
    static Loss softmaxCrossEntropy() { return Tensor::softmaxCrossEntropy; }

    /** Mean squared error between two tensors of one shape. */
    static Loss mse() {
        return (output, target) -> {
            if (!output.shape().equals(target.shape())) {
                throw new IllegalArgumentException("mse: output " + output.shape() + " and target " + target.shape() + " differ");
            }
            Tensor d = output.sub(target);
            return d.mul(d).mean();
        };
    }
}
