package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or a model: {@link #forward} maps tensors to tensors, the same code running eagerly or
 * traced into a compiled training step.
 */
public abstract class Module {
    private boolean training = true;
    private String path = "";

    public abstract Tensor forward(Tensor x);

    /** Direct sub-modules, in order. */
    public List<Module> children() { return List.of(); }

    /** This module's own parameters by local name (not its children's). */
    protected Map<String, Parameter> ownParameters() { return Map.of(); }

    /** Every parameter of this module and its children, by dotted path: {@code 1.weight}. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    public final List<Parameter> parameters() { return new ArrayList<>(namedParameters().values()); }

    public final long parameterCount() { return parameters().stream().mapToLong(p -> p.shape().size()).sum(); }

    private void collect(String prefix, Map<String, Parameter> out) {
        ownParameters().forEach((k, v) -> out.put(prefix + k, v));
        List<Module> c = children();
        for (int i = 0; i < c.size(); i++) c.get(i).collect(prefix + i + ".", out);
    }

    /**
     * This module's own buffers by local name: state that is not trained but updated by the
     * forward pass (BatchNorm's running statistics). Compiled steps write them back after each run.
     */
    protected Map<String, Parameter> ownBuffers() { return Map.of(); }

    /** Every buffer of this module and its children, by dotted path: {@code 1.running_mean}. */
    public final Map<String, Parameter> namedBuffers() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return out;
    }

    private void collectBuffers(String prefix, Map<String, Parameter> out) {
        ownBuffers().forEach((k, v) -> out.put(prefix + k, v));
        List<Module> c = children();
        for (int i = 0; i < c.size(); i++) c.get(i).collectBuffers(prefix + i + ".", out);
    }

    /**
     * Freezes every parameter of this module and its children (buffers are not parameters: batch
     * norm's running statistics still follow the training mode), as Keras's
     * {@code layer.trainable = False} and PyTorch's {@code requires_grad_(False)}: for transfer
     * learning, freeze the backbone and train the head.
     */
    public Module freeze() {
        parameters().forEach(p -> p.setTrainable(false));
        return this;
    }

    /** Makes every parameter of this module and its children trainable again. */
    public Module unfreeze() {
        parameters().forEach(p -> p.setTrainable(true));
        return this;
    }

    /** Training mode (the default): dropout is active, batch norm uses and updates batch statistics. */
    public Module train() { setTraining(true); return this; }

    /** Evaluation mode: dropout passes inputs through, batch norm uses its running statistics. */
    public Module eval() { setTraining(false); return this; }

    public boolean isTraining() { return training; }

    private void setTraining(boolean t) {
        training = t;
        for (Module m : children()) m.setTraining(t);
    }

    /** Where this module sits in its model ({@code "1"} for the second layer of a Sequential), for messages. */
    public String path() { return path; }

    void setPath(String p) { this.path = p; }

    /** How this layer names itself in messages: {@code Linear(784 -> 128) at 1}. */
    protected String describe() {
        return path.isEmpty() ? toString() : toString() + " at " + path;
    }

    /**
     * What rebuilds this module (Keras's {@code get_config()}): Kiln's layers answer; a module of
     * your own overrides this and registers a factory for its type with {@link Architectures#register}
     * so a model file holding it can be loaded.
     */
    public LayerConfig config() {
        throw new UnsupportedOperationException(describe() + " (" + getClass().getName() + ") cannot describe itself for a model file:"
                + " override config() and register a factory with Architectures.register");
    }

    /** The configs of {@link #children()}, in order. */
    protected final List<LayerConfig> childConfigs() {
        List<LayerConfig> out = new ArrayList<>();
        for (Module m : children()) out.add(m.config());
        return out;
    }

    @Override public String toString() { return getClass().getSimpleName(); }
}
