package dev.kiln.api.checkpoint;

import dev.kiln.api.Kiln;
import dev.kiln.api.internal.OldAttentionNames;
import dev.kiln.api.internal.StagedValues;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.core.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's state as safetensors tensors: its parameters named by {@link Module#namedParameters()}
 * (the dotted path of the layer and the local name, e.g. {@code 1.weight} and {@code 1.bias} for
 * the second layer of a {@link dev.kiln.api.nn.Sequential}) and its buffers by
 * {@link Module#namedBuffers()} ({@code 2.running_mean}), together what PyTorch calls the state dict. Names, shapes,
 * layouts and dtypes are PyTorch's ({@code Linear.weight} is [out, in], {@code MultiHeadAttention}'s
 * {@code in_proj_weight} packs q, k and v, BatchNorm's {@code num_batches_tracked} is an i64
 * scalar), so a Kiln file loads into the same {@code torch.nn} modules with {@code load_state_dict},
 * and a PyTorch state dict saved as safetensors loads into Kiln. Files Kiln wrote before its
 * attention took PyTorch's layout still load (see {@link OldAttentionNames}).
 */
public final class ModelWeights {
    /** Checkpoint tensors whose names start with this belong to the optimizer, not the model. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";

    private ModelWeights() {}

    /** Parameters and buffers by name, as PyTorch's {@code state_dict()}. */
    public static Map<String, Parameter> stateOf(Module model) {
        Map<String, Parameter> all = new LinkedHashMap<>(model.namedParameters());
        all.putAll(model.namedBuffers());
        return all;
    }

    /** The current parameter and buffer values, copied to the host: f32, and i64 for counters. */
    public static Map<String, StoredTensor> capture(Module model, Kiln kiln) {
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        stateOf(model).forEach((name, p) -> out.put(name, p.dtype() == DType.I64
                ? StoredTensor.ofLongs(p.value(kiln).toLongArray(), p.shape())
                : StoredTensor.ofFloats(p.value(kiln).toFloatArray(), p.shape())));
        return out;
    }

    /** Writes the parameters atomically to a safetensors file. */
    public static void save(Module model, Kiln kiln, Path path) {
        // Ordered, unlike Map.of, so that the same weights give the same bytes in every JVM.
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "kiln.weights");
        meta.put("format_version", "1");
        new SafeTensorsFile(capture(model, kiln), meta).write(path);
    }

    /** Loads parameters saved by Kiln or PyTorch; see {@link #apply}. */
    public static void load(Module model, Kiln kiln, Path path) {
        apply(model, kiln, SafeTensorsFile.read(path).tensors(), path);
    }

    /**
     * Sets every parameter and buffer from the tensor of its name. All names and shapes are checked
     * and every value is uploaded before any parameter changes, so a mismatch (or an upload that
     * fails) leaves the model as it was; for that, old and new values are both held for a moment.
     * Optimizer tensors of a training checkpoint are ignored; any other tensor the model has no
     * parameter for is an error, as PyTorch's strict {@code load_state_dict}.
     */
    public static void apply(Module model, Kiln kiln, Map<String, StoredTensor> tensors, Path source) {
        Map<String, StoredTensor> current = OldAttentionNames.upgrade(model, tensors);
        check(model, current, source);
        try (StagedValues staged = new StagedValues()) {
            staged.putState(kiln, model, current);
            staged.commit();
        }
    }

    /**
     * {@code tensors} under new names, for weight surgery: {@code rename} maps each name to its new
     * one, or to null to drop the tensor. E.g. DDP's prefix off, {@code k -> k.startsWith("module.")
     * ? k.substring(7) : k}; a backbone's weights only, {@code k -> k.startsWith("0.") ? k : null}.
     *
     * @throws IllegalArgumentException when two tensors would get one name, naming both
     */
    public static Map<String, StoredTensor> rename(Map<String, StoredTensor> tensors, java.util.function.Function<String, String> rename) {
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        Map<String, String> from = new java.util.HashMap<>();
        for (Map.Entry<String, StoredTensor> e : tensors.entrySet()) {
            String to = rename.apply(e.getKey());
            if (to == null) continue;
            String earlier = from.putIfAbsent(to, e.getKey());
            if (earlier != null) throw new IllegalArgumentException("renaming gives \"" + earlier + "\" and \"" + e.getKey() + "\" the same name \"" + to + "\"");
            out.put(to, e.getValue());
        }
        return out;
    }

    /**
     * The checks of {@link #apply} without changing anything: a {@link CheckpointException} listing
     * every mismatch. A counter ({@code num_batches_tracked}) may be missing, as PyTorch allows for
     * state dicts saved before BatchNorm counted; loading then starts it at 0.
     */
    public static void check(Module model, Map<String, StoredTensor> tensors, Path source) {
        Map<String, StoredTensor> current = OldAttentionNames.upgrade(model, tensors);
        Map<String, Parameter> params = stateOf(model);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            StoredTensor t = current.get(e.getKey());
            boolean counter = e.getValue().dtype() == DType.I64;
            if (t == null) {
                if (!counter) problems.add("missing tensor \"" + e.getKey() + "\" for parameter " + e.getValue().shape());
            } else if (counter && (t.dtype().isFloating() || t.dtype() == StoredTensor.Type.BOOL)) {
                problems.add("tensor \"" + e.getKey() + "\" is " + t.dtype() + ", not an integer type (it counts)");
            } else if (!counter && !t.dtype().isFloating()) {
                problems.add("tensor \"" + e.getKey() + "\" is " + t.dtype() + ", not a floating type");
            } else if (!t.hasShape(e.getValue().shape())) {
                problems.add("tensor \"" + e.getKey() + "\" is " + t + " but the parameter is " + e.getValue().shape());
            }
        }
        for (String name : current.keySet()) {
            if (!params.containsKey(name) && !name.startsWith(OPTIMIZER_PREFIX)) problems.add("unexpected tensor \"" + name + "\" (the model has no such parameter)");
        }
        if (!problems.isEmpty()) {
            throw new CheckpointException(source, "does not fit the model " + model + ": " + String.join("; ", problems)
                    + ". The model's parameters are " + describe(params));
        }
    }

    private static String describe(Map<String, Parameter> params) {
        StringBuilder sb = new StringBuilder("{");
        params.forEach((k, v) -> sb.append(sb.length() == 1 ? "" : ", ").append(k).append(v.shape()));
        return sb.append('}').toString();
    }
}
