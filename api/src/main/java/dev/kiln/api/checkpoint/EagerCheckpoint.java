package dev.kiln.api.checkpoint;

import dev.kiln.api.Kiln;
import dev.kiln.api.RngState;
import dev.kiln.api.Tensor;
import dev.kiln.api.internal.MetadataFields;
import dev.kiln.api.internal.OldAttentionNames;
import dev.kiln.api.internal.OptimizerTensors;
import dev.kiln.api.internal.StagedValues;
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

    /**
     * Restores everything {@link #save} wrote and returns the metadata (with the loop's own keys).
     * Every field and tensor is checked, and every value uploaded, before the model, the optimizer
     * or the Kiln's random stream changes: a bad file is a {@link CheckpointException} naming it
     * and the field, and leaves all three as they were.
     */
    public static Map<String, String> restore(Path path, Kiln kiln, Module model, Optimizer optimizer) {
        SafeTensorsFile f = SafeTensorsFile.read(path);
        Map<String, String> meta = f.metadata();
        if (!FORMAT.equals(meta.get("format"))) throw new CheckpointException(path, "is not an eager-loop checkpoint (format " + meta.get("format") + ")");
        MetadataFields fields = new MetadataFields(path, meta);
        if (!"1".equals(fields.text("format_version"))) throw fields.fault("format_version", "is " + meta.get("format_version") + ", this Kiln reads 1");
        List<String> slots = optimizer.stateNames();
        if (!String.join(",", slots).equals(fields.text("optimizer_state"))) {
            throw new CheckpointException(path, "holds optimizer state " + meta.get("optimizer_state") + " but " + optimizer + " keeps " + slots);
        }
        long step = fields.integer("step", 0, Long.MAX_VALUE);
        double lr = fields.finite("learning_rate", 0, false);
        RngState rng = new RngState(fields.integer("rng_seed", Long.MIN_VALUE, Long.MAX_VALUE), fields.integer("rng_position", 0, Long.MAX_VALUE));
        Map<String, StoredTensor> tensors = OldAttentionNames.upgrade(model, f.tensors());
        ModelWeights.check(model, tensors, path);
        Map<Parameter, float[][]> host = OptimizerTensors.read(path, model, slots, tensors);

        Map<Parameter, List<Tensor>> state = new LinkedHashMap<>();
        try (StagedValues weights = new StagedValues()) {
            try {
                weights.putState(kiln, model, tensors);
                host.forEach((p, s) -> {
                    List<Tensor> l = new ArrayList<>();
                    state.put(p, l);
                    for (float[] v : s) l.add(kiln.tensor(v, p.shape().dims()));
                });
            } catch (RuntimeException | Error e) {
                state.values().forEach(l -> l.forEach(Tensor::close));
                throw e;
            }
            weights.commit();
        }
        optimizer.restoreState(state, step);
        optimizer.setLearningRate(lr);
        kiln.restoreRngState(rng);
        return meta;
    }
}
