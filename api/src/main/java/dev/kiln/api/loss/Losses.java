package dev.kiln.api.loss;

import dev.kiln.api.Tensor;

/** What the losses share: their shape checks, which name the loss and both shapes, and Huber's curve. */
final class Losses {
    private Losses() {}

    static void sameShape(String loss, Tensor output, Tensor target) {
        if (!output.shape().equals(target.shape()))
            throw new IllegalArgumentException(loss + ": output " + output.shape() + " and target " + target.shape() + " differ");
        if (output.dtype() != target.dtype())
            throw new IllegalArgumentException(loss + ": output is " + output.dtype() + " and target " + target.dtype() + "; cast one");
    }

    static void classification(String loss, Tensor output, Tensor labels) {
        if (output.shape().rank() != 2 || labels.shape().rank() != 1 || labels.shape().dim(0) != output.shape().dim(0))
            throw new IllegalArgumentException(loss + ": needs output [n, classes] and integer labels [n]; got output "
                    + output.shape() + " and labels " + labels.shape());
        if (labels.dtype().isFloating()) throw new IllegalArgumentException(loss + ": labels must be integers, not " + labels.dtype());
    }

    /** {@code d^2 / 2} where {@code |d| < delta}, else {@code delta (|d| - delta / 2)}. */
    static Tensor huber(Tensor d, double delta) {
        Tensor a = d.abs();
        return a.lt(delta).where(d.mul(d).mul(0.5), a.sub(delta / 2).mul(delta));
    }
}
