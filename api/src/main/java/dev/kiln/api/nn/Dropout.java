package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.api.internal.StepSeeds;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;

/**
 * Zeroes each element with probability {@code p} in training mode and scales the rest by
 * {@code 1/(1-p)}; the identity in evaluation mode. The mask comes from the counter-based
 * {@link Primitive.RandomUniform} op, so it is reproducible from the seed.
 */
public final class Dropout extends Module {
    private final double p;

    public Dropout(double p) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("Dropout probability must be in [0, 1), got " + p);
        this.p = p;
    }

    @Override public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) return x;
        Tensor seed = StepSeeds.next(x);
        Tensor u = Tensor.apply1(new Primitive.RandomUniform(new TensorType(x.dtype(), x.shape())), seed);
        return x.mul(u.gt(p).cast(x.dtype())).mul(1 / (1 - p));
    }

    @Override public LayerConfig config() { return LayerConfig.of("Dropout", "p", p); }

    @Override public String toString() { return "Dropout(" + p + ")"; }
}
