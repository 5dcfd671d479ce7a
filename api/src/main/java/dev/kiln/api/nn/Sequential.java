package dev.kiln.api.nn;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.List;

/** Layers applied in order, as Keras' and PyTorch's Sequential. */
public final class Sequential extends Module {
    private final List<Module> layers;

    private Sequential(List<Module> layers) {
        this.layers = List.copyOf(layers);
        for (int i = 0; i < this.layers.size(); i++) this.layers.get(i).setPath(String.valueOf(i));
    }

    public static Sequential of(Module... layers) { return new Sequential(List.of(layers)); }

    @Override public Tensor forward(Tensor x) {
        for (Module m : layers) x = m.forward(x);
        return x;
    }

    @Override public List<Module> children() { return layers; }

    @Override public LayerConfig config() { return LayerConfig.withChildren("Sequential", childConfigs()); }

    /** One line per layer with its parameter count, as Keras' {@code summary()}. */
    public String summary() {
        StringBuilder sb = new StringBuilder(String.format("%-6s %-28s %12s%n", "index", "layer", "parameters"));
        for (int i = 0; i < layers.size(); i++) {
            sb.append(String.format("%-6d %-28s %,12d%n", i, layers.get(i), layers.get(i).parameterCount()));
        }
        return sb.append(String.format("total parameters: %,d", parameterCount())).toString();
    }

    /**
     * One line per layer with its output shape and parameter count for an f32 input of
     * {@code inputShape} (batch axis included), as Keras' {@code summary()} and torchinfo print.
     */
    public String summary(Kiln kiln, int... inputShape) { return summary(kiln, DType.F32, inputShape); }

    /** As {@link #summary(Kiln, int...)} for an input of another dtype (token indices for an Embedding). */
    public String summary(Kiln kiln, DType dtype, int... inputShape) {
        return Summary.of(kiln, layers, parameterCount(), Shape.of(inputShape), dtype);
    }

    @Override public String toString() { return "Sequential" + layers; }
}
