package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.MultiHeadAttention;
import dev.kiln.core.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Attention over an empty sequence gives an empty result, as PyTorch's does, on the oneDNN
 * plugin too: its causal mask is an empty constant, which once failed with an out-of-bounds copy.
 */
class EmptySequenceOnOneDnnTest {
    @Test void attentionOverNoPositionsIsEmptyAndHasZeroGradients() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").build())) {
            for (boolean causal : new boolean[] {true, false}) {
                MultiHeadAttention mha = new MultiHeadAttention(8, 2, causal);
                assertEquals(Shape.of(2, 0, 8), mha.forward(kiln.zeros(2, 0, 8)).shape(), "causal " + causal);
                var params = mha.parameters();
                try (GradientTape tape = kiln.tape()) {
                    Tensor loss = mha.forward(kiln.zeros(2, 0, 8)).sum();
                    List<Tensor> g = tape.gradient(loss, params.stream().map(p -> p.value(kiln)).toList());
                    assertArrayEquals(new float[3 * 8], g.get(1).toFloatArray(), "the q, k, v biases have no effect on an empty output");
                }
            }
        }
    }
}
