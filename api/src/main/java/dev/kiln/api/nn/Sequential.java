package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
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

    /** One line per layer with its parameter count, as Keras' {@code summary()}. */
    public String summary() {
        StringBuilder sb = new StringBuilder(String.format("%-6s %-28s %12s%n", "index", "layer", "parameters"));
        for (int i = 0; i < layers.size(); i++) {
            sb.append(String.format("%-6d %-28s %,12d%n", i, layers.get(i), layers.get(i).parameterCount()));
        }
        return sb.append(String.format("total parameters: %,d", parameterCount())).toString();
    }

    @Override public String toString() { return "Sequential" + layers; }
}
