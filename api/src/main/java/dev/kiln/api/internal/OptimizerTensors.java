package dev.kiln.api.internal;

import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The optimizer state a checkpoint stores as {@code optimizer.<parameter>.<slot>}, read and
 * checked against the model without changing anything.
 */
public final class OptimizerTensors {
    private OptimizerTensors() {}

    /**
     * Each parameter that has state, with its slots' values in {@code slots} order. A parameter
     * has all of its slots or none, each a floating tensor of the parameter's shape, and every
     * optimizer tensor must name a parameter and a slot; anything else is a
     * {@link CheckpointException} naming the tensor.
     */
    public static Map<Parameter, float[][]> read(Path path, Module model, List<String> slots, Map<String, StoredTensor> tensors) {
        Map<Parameter, float[][]> out = new LinkedHashMap<>();
        Set<String> expected = new HashSet<>();
        List<String> problems = new ArrayList<>();
        model.namedParameters().forEach((name, p) -> {
            float[][] values = new float[slots.size()][];
            List<String> absent = new ArrayList<>();
            for (int i = 0; i < slots.size(); i++) {
                String key = ModelWeights.OPTIMIZER_PREFIX + name + "." + slots.get(i);
                expected.add(key);
                StoredTensor t = tensors.get(key);
                if (t == null) absent.add(slots.get(i));
                else if (!t.dtype().isFloating() || !t.hasShape(p.shape())) problems.add("tensor \"" + key + "\" is " + t + " but the parameter is " + p.shape());
                else values[i] = t.toFloats();
            }
            if (absent.isEmpty() && !slots.isEmpty()) out.put(p, values);
            else if (absent.size() < slots.size()) problems.add("parameter \"" + name + "\" has optimizer state but lacks " + absent);
        });
        for (String name : tensors.keySet()) {
            if (name.startsWith(ModelWeights.OPTIMIZER_PREFIX) && !expected.contains(name)) {
                problems.add("unexpected tensor \"" + name + "\" (no parameter has that optimizer state; it keeps " + slots + ")");
            }
        }
        if (!problems.isEmpty()) throw new CheckpointException(path, "has optimizer state that does not fit: " + String.join("; ", problems));
        return out;
    }
}
