package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import java.util.Arrays;

/**
 * Keeps the batch axis and reshapes each example to {@code shape}: {@code new Reshape(1, 28, 28)}
 * turns Fashion-MNIST's [batch, 28, 28] images into the [batch, 1, 28, 28] a Conv2d expects.
 */
public final class Reshape extends Module {
    private final int[] shape;

    public Reshape(int... shape) {
        if (shape.length == 0 || Arrays.stream(shape).anyMatch(d -> d <= 0)) throw new IllegalArgumentException("Reshape needs positive dimensions, got " + Arrays.toString(shape));
        this.shape = shape.clone();
    }

    @Override public Tensor forward(Tensor x) {
        long size = Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b);
        if (x.shape().rank() < 1 || x.shape().size() != size * x.shape().dim(0)) {
            throw new IllegalArgumentException(describe() + ": cannot reshape " + x.shape() + " to [batch, " + Arrays.toString(shape).substring(1));
        }
        int[] d = new int[shape.length + 1];
        d[0] = x.shape().dim(0);
        System.arraycopy(shape, 0, d, 1, shape.length);
        return x.reshape(d);
    }

    @Override public LayerConfig config() { return LayerConfig.of("Reshape", "shape", shape.clone()); }

    @Override public String toString() { return "Reshape" + Arrays.toString(shape); }
}
