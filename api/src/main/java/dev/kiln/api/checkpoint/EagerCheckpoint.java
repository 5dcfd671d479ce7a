package dev.kiln.api.checkpoint;

import dev.kiln.api.Kiln;
import dev.kiln.api.RngState;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.optim.Optimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checkpoints for custom training loops that call {@link Optimizer#step} themselves: the model's
 * state, the optimizer's eager state under {@code optimizer.<parameter>.<state name>} (the names a
 * {@link dev.kiln.api.train.Trainer} checkpoint uses), the optimizer's step count and learning
 * rate, the Kiln's random stream, and whatever the loop adds to the metadata (its epoch, say).
 */
public final class EagerCheckpoint {
    static final String FORMAT = "kiln.eager";

    private EagerCheckpoint() {}

    public static void save(Path path, Kiln kiln, Module model, Optimizer optimizer, Map<String, String> extra) {
        Map<String, StoredTensor> tensors = new LinkedHashMap<>(ModelWeights.capture(model, kiln));
        List<String> slots = optimizer.stateNames();
        model.namedParameters().forEach((name, p) -> {
            List<Tensor> s = optimizer.state(p);
            if (s == null) return;
            for (int i = 0; i < slots.size(); i++) {
                tensors.put(ModelWeights.OPTIMIZER_PREFIX + name + "." + slots.get(i), StoredTensor.ofFloats(s.get(i).toFloatArray(), p.shape()));
            }
        });
        RngState rng = kiln.rngState();
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put("format", FORMAT);
        meta.put("format_version", "1");
        meta.put("step", Long.toString(optimizer.steps()));
        meta.put("learning_rate", Double.toString(optimizer.learningRate()));
        meta.put("optimizer", optimizer.toString());
        meta.put("optimizer_state", String.join(",", slots));
        meta.put("rng_seed", Long.toString(rng.seed()));
        meta.put("rng_position", Long.toString(rng.position()));
        new SafeTensorsFile(tensors, meta).write(path);
    }

    /** Restores everything {@link #save} wrote and returns the metadata (with the loop's own keys). */
    public static Map<String, String> restore(Path path, Kiln kiln, Module model, Optimizer optimizer) {
        SafeTensorsFile f = SafeTensorsFile.read(path);
        Map<String, String> meta = f.metadata();
        if (!FORMAT.equals(meta.get("format"))) throw new CheckpointException(path, "is not an eager-loop checkpoint (format " + meta.get("format") + ")");
        List<String> slots = optimizer.stateNames();
        if (!String.join(",", slots).equals(meta.get("optimizer_state"))) {
            throw new CheckpointException(path, "holds optimizer state " + meta.get("optimizer_state") + " but " + optimizer + " keeps " + slots);
        }
        long step;
        RngState rng;
        double lr;
        try {
            step = Long.parseLong(meta.get("step"));
            lr = Double.parseDouble(meta.get("learning_rate"));
            rng = new RngState(Long.parseLong(meta.get("rng_seed")), Long.parseLong(meta.get("rng_position")));
        } catch (RuntimeException e) {
            throw new CheckpointException(path, "has missing or malformed step, learning_rate or rng metadata: " + e.getMessage(), e);
        }
        ModelWeights.check(model, f.tensors(), path);
        Map<Parameter, float[][]> host = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            float[][] s = new float[slots.size()][];
            for (int i = 0; i < slots.size(); i++) {
                StoredTensor t = f.tensors().get(ModelWeights.OPTIMIZER_PREFIX + e.getKey() + "." + slots.get(i));
                if (t == null) break;
                if (t.elementCount() != e.getValue().shape().size()) throw new CheckpointException(path, "optimizer state of \"" + e.getKey() + "\" is " + t);
                s[i] = t.toFloats();
            }
            if (s[slots.size() - 1] != null) host.put(e.getValue(), s);
        }
        ModelWeights.apply(model, kiln, f.tensors(), path);
        Map<Parameter, List<Tensor>> state = new LinkedHashMap<>();
        host.forEach((p, s) -> {
            List<Tensor> l = new ArrayList<>();
            for (float[] v : s) l.add(kiln.tensor(v, p.shape().dims()));
            state.put(p, l);
        });
        optimizer.restoreState(state, step);
        optimizer.setLearningRate(lr);
        kiln.restoreRngState(rng);
        return meta;
    }
}
