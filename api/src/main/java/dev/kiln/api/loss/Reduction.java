package dev.kiln.api.loss;

import dev.kiln.api.Tensor;

/** PyTorch's {@code reduction} argument: how per-element losses become the loss. */
public enum Reduction {
    /** The mean over every element (PyTorch's and Keras's default). */
    MEAN,
    /** The sum over every element. */
    SUM,
    /** No reduction: one loss per element, for a loop that weights or masks them itself. */
    NONE;

    Tensor apply(Tensor perElement) {
        return switch (this) {
            case MEAN -> perElement.mean();
            case SUM -> perElement.sum();
            case NONE -> perElement;
        };
    }
}
