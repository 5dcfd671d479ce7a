package dev.kiln.api.nn;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.internal.Internal;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.runtime.trace.Tracer;
import dev.kiln.spi.ir.TensorType;
import java.util.List;

/**
 * Keras-style model summaries. Output shapes come from tracing the layers on a symbolic input, so
 * nothing is computed and a shape mistake is reported by the layer that makes it.
 */
final class Summary {
    private Summary() {}

    static String of(Kiln kiln, List<Module> layers, long total, Shape input, DType dtype) {
        Tracer tr = new Tracer();
        Tensor x = Internal.access().symbolic(kiln, tr, tr.builder().input(new TensorType(dtype, input)));
        StringBuilder sb = new StringBuilder(String.format("%-6s %-34s %-20s %12s%n", "index", "layer", "output shape", "parameters"));
        sb.append(String.format("%-6s %-34s %-20s %12s%n", "", "input", input, ""));
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i).forward(x);
            sb.append(String.format("%-6d %-34s %-20s %,12d%n", i, layers.get(i), x.shape(), layers.get(i).parameterCount()));
        }
        return sb.append(String.format("total parameters: %,d", total)).toString();
    }
}
