package dev.kiln.runtime.autodiff;

import dev.kiln.spi.ir.Graph;
import java.util.List;

/** Reverse-mode differentiation of graphs. */
public final class Autodiff {
    private Autodiff() {}

    /**
     * A graph with the inputs of {@code f} whose outputs are {@code f}'s outputs followed by the
     * gradient of {@code f}'s first output (a floating scalar) with respect to each input in {@code wrt}.
     */
    public static Graph gradients(Graph f, List<Integer> wrt) {
        throw new UnsupportedOperationException("TODO");
    }
}
