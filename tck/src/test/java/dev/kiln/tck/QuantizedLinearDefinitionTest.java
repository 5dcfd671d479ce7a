package dev.kiln.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The int8 linear layer's decomposition, worked by hand: what "the definition" says in numbers. */
class QuantizedLinearDefinitionTest {
    private static final TensorType X = TensorType.of(DType.F32, 1, 3), WQ = TensorType.of(DType.I8, 1, 3), PER = TensorType.of(DType.F32, 1);

    private static double run(Activation act, double[] x) {
        return Reference.evalNode(new Composite.QuantizedLinear(act), List.of(X, WQ, PER, PER),
                List.of(x, new double[] {127, -3, 1}, new double[] {0.01}, new double[] {0.1})).getFirst()[0];
    }

    @Test
    void quantizesPerTensorRoundingTiesAwayFromZero() {
        // xs = 2/127: 2 -> 127, 0.5 -> 31.75 -> 32, -1 -> -63.5 -> -64 (a tie, away from zero).
        double acc = 127 * 127 + 32 * -3 + -64 * 1;
        assertEquals(acc * (2 / 127.0) * 0.01 + 0.1, run(Activation.NONE, new double[] {2, 0.5, -1}), 1e-12);
    }

    @Test
    void allZeroInputGivesTheBias() {
        assertEquals(0.1, run(Activation.NONE, new double[] {0, 0, 0}), 1e-12);
        assertEquals(0.0, run(Activation.RELU, new double[] {-2, 0, 0}), 0.0, "relu of -2.54 + 0.1");
    }

    @Test
    void refusesWhatItCannotQuantize() {
        var op = new Composite.QuantizedLinear(Activation.NONE);
        var e = assertThrows(IllegalArgumentException.class, () -> op.infer(List.of(X, TensorType.of(DType.F32, 1, 3), PER, PER)));
        assertTrue(e.getMessage().contains("i8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> op.infer(List.of(TensorType.of(DType.BF16, 1, 3), WQ, PER, PER)));
        assertThrows(IllegalArgumentException.class, () -> op.infer(List.of(TensorType.of(DType.F32, 1, 4), WQ, PER, PER)));
        assertThrows(IllegalArgumentException.class, () -> op.infer(List.of(X, WQ, TensorType.of(DType.F32, 2), PER)));
    }
}
