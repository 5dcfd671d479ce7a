package dev.kiln.tck.internal;

import dev.kiln.spi.ir.TensorType;
import dev.kiln.tck.Tolerance;
import org.junit.jupiter.api.Assertions;

/** Element-by-element comparison whose failure message says what, where, by how much, and how to reproduce. */
public final class Compare {
    private Compare() {}

    public static void assertClose(String what, TensorType type, double[] actual, double[] expected, Tolerance tol, int scale) {
        if (actual.length != expected.length) {
            Assertions.fail(what + ": got " + actual.length + " elements, expected " + expected.length + " (" + type + ")");
        }
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            if (!tol.accepts(actual[i], expected[i], scale)) {
                if (first < 0) first = i;
                bad++;
                worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
            }
        }
        if (bad == 0) return;
        Assertions.fail(String.format("%s: %d of %d elements of %s differ; first at %s: got %.9g, expected %.9g (allowed %.3g); worst |diff| %.3g",
                what, bad, actual.length, type, Names.coordinates(type.shape(), first), actual[first], expected[first],
                tol.allowed(expected[first], scale), worst));
    }
}
