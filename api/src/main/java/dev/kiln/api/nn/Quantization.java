package dev.kiln.api.nn;

import dev.kiln.api.Kiln;
import java.util.ArrayList;
import java.util.List;

/**
 * Post-training quantization for inference. {@link #quantizeDynamic} is PyTorch's
 * {@code torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)}.
 */
public final class Quantization {
    private Quantization() {}

    /**
     * A copy of {@code model} for inference whose {@link Linear} layers are {@link QuantizedLinear}:
     * int8 weights with per-output-channel symmetric scales, activations quantized per batch inside
     * the compiled graph, f32 results. Sequential models are rebuilt layer by layer, nested ones
     * too; other layers are kept as they are (shared with {@code model}, not copied), and a Linear
     * inside a layer other than Sequential stays in f32. The result is in evaluation mode; run it
     * with {@code forward} or a Trainer's {@code evaluate}. {@code kiln} is where the trained
     * weights are read from.
     */
    public static Module quantizeDynamic(Module model, Kiln kiln) {
        Module q = quantize(model, kiln);
        q.eval();
        return q;
    }

    private static Module quantize(Module m, Kiln kiln) {
        return switch (m) {
            case Linear l -> QuantizedLinear.of(l, kiln);
            case Sequential s -> {
                List<Module> layers = new ArrayList<>();
                for (Module c : s.children()) layers.add(quantize(c, kiln));
                yield Sequential.of(layers.toArray(Module[]::new));
            }
            default -> m;
        };
    }
}
