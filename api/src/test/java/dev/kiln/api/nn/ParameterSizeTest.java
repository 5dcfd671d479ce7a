package dev.kiln.api.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A layer whose parameter cannot be held is refused when it is built, naming the layer, the
 * parameter and the shape, instead of an {@code ArithmeticException} at its first use.
 */
class ParameterSizeTest {
    private static void refused(Executable build, String... expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        for (String s : expected) assertTrue(e.getMessage().contains(s), "expected \"" + s + "\" in: " + e.getMessage());
        assertTrue(e.getMessage().contains("more than a parameter can hold (2147483639"), e.getMessage());
    }

    @Test void linear() {
        refused(() -> new Linear(200000, 200000), "Linear(200000 -> 200000): weight [200000, 200000] has 4.0e+10 elements");
    }

    @Test void conv2dEmbeddingLayerNormBatchNormAndAttention() {
        // 4 ints multiply past a long here: the check must not depend on the Shape being countable.
        refused(() -> new Conv2d(65536, 65536, 65536), "Conv2d(65536 -> 65536, 65536x65536): weight [65536, 65536, 65536, 65536]");
        refused(() -> new Embedding(1_000_000, 4096), "Embedding(1000000, 4096): weight [1000000, 4096] has 4.1e+09 elements");
        refused(() -> new LayerNorm(1 << 20, 1 << 20, 1 << 20, 1 << 20), "LayerNorm([1048576, 1048576, 1048576, 1048576]): weight");
        refused(() -> new BatchNorm2d(Integer.MAX_VALUE), "BatchNorm2d(2147483647): weight [2147483647]");
        refused(() -> new MultiHeadAttention(65536, 4, false), "MultiHeadAttention(65536, 4 heads): in_proj_weight [196608, 65536]");
        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class, () -> new MultiHeadAttention(1 << 30, 1, false));
        assertTrue(rows.getMessage().contains("MultiHeadAttention(1073741824, 1 heads): in_proj_weight [3 * 1073741824, 1073741824]"), rows.getMessage());
        refused(() -> new Parameter(Shape.of(1 << 16, 1 << 16), Parameter.Initializer.constant(0)), "parameter [65536, 65536]");
    }

    @Test void theLargestParameterIsStillAccepted() {
        // Built lazily, so no 8 GiB array is made here; only the limit itself is checked.
        Parameter p = new Parameter(Shape.of(Parameter.MAX_ELEMENTS), Parameter.Initializer.constant(0));
        assertEquals(Parameter.MAX_ELEMENTS, p.shape().size());
        assertEquals(46340L * 46340, new Linear(46340, 46340).weight().shape().size());
    }
}
