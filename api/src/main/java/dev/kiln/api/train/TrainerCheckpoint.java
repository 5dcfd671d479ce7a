package dev.kiln.api.train;

import dev.kiln.api.Kiln;
import dev.kiln.api.RngState;
import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.internal.Internal;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.optim.Optimizer;
import dev.kiln.core.DType;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Trainer}'s state as one safetensors file. Tensors: each parameter under its
 * {@code namedParameters()} name ({@code 1.weight}), each optimizer state tensor under
 * {@code optimizer.<parameter>.<state name>} ({@code optimizer.1.weight.exp_avg}). Metadata
 * (strings, as the format requires): the counters that make a resumed run continue exactly, and
 * with loss scaling its state as {@code scaler.<name>} (PyTorch keeps it in the scaler's state dict).
 */
final class TrainerCheckpoint {
    static final String FORMAT = "kiln.trainer";
    static final String VERSION = "1";
    static final String SCALER_PREFIX = "scaler.";

    private TrainerCheckpoint() {}

    static void save(Trainer t, Path path) {
        Kiln kiln = t.kiln();
        Optimizer opt = t.optimizer();
        Map<String, StoredTensor> tensors = new LinkedHashMap<>(ModelWeights.capture(t.model(), kiln));
        List<String> slots = opt.stateNames();
        t.model().namedParameters().forEach((name, p) -> {
            Buffer[] state = t.optimizerState.get(p);
            if (state == null) return; // no step taken yet: the state is still the implicit zeros
            for (int s = 0; s < slots.size(); s++) {
                float[] host = new float[Math.toIntExact(p.shape().size())];
                Internal.access().download(kiln, state[s], MemorySegment.ofArray(host));
                tensors.put(ModelWeights.OPTIMIZER_PREFIX + name + "." + slots.get(s), StoredTensor.ofFloats(host, p.shape()));
            }
        });
        RngState rng = kiln.rngState();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", VERSION);
        meta.put("step", Long.toString(t.step));
        meta.put("epochs_completed", Integer.toString(t.epochsDone));
        meta.put("batches_in_epoch", Integer.toString(t.batchesDone));
        // Double.toString round-trips exactly, so the resumed epoch's running means match too.
        meta.put("epoch_loss_sum", Double.toString(t.epochLossSum));
        meta.put("epoch_correct", Long.toString(t.epochCorrect));
        meta.put("epoch_seen", Long.toString(t.epochSeen));
        meta.put("rng_seed", Long.toString(rng.seed()));
        meta.put("rng_position", Long.toString(rng.position()));
        meta.put("shuffle_seed", Long.toString(t.shuffleSeed()));
        meta.put("learning_rate", Double.toString(opt.learningRate()));
        meta.put("schedule_step", Long.toString(t.step));
        meta.put("optimizer", opt.toString());
        meta.put("optimizer_state", String.join(",", slots));
        meta.put("backend", kiln.backend());
        if (t.scaler != null) {
            double[] v = t.scaler.values();
            for (int i = 0; i < v.length; i++) meta.put(SCALER_PREFIX + LossScaler.STATE.get(i), Double.toString(v[i]));
        }
        new SafeTensorsFile(tensors, meta).write(path);
    }

    static void restore(Trainer t, Path path) {
        SafeTensorsFile f = SafeTensorsFile.read(path);
        Map<String, String> meta = f.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new CheckpointException(path, "is not a Kiln training checkpoint (metadata format is " + meta.get("format")
                    + "); load model weights with ModelWeights.load instead");
        }
        if (!VERSION.equals(meta.get("format_version"))) throw new CheckpointException(path, "has checkpoint version " + meta.get("format_version") + ", this Kiln reads " + VERSION);
        Kiln kiln = t.kiln();
        Optimizer opt = t.optimizer();
        List<String> slots = opt.stateNames();
        if (!String.join(",", slots).equals(meta.get("optimizer_state"))) {
            throw new CheckpointException(path, "holds optimizer state " + meta.get("optimizer_state") + " (" + meta.get("optimizer") + ") but "
                    + opt + " keeps " + slots);
        }
        // Parse and check everything before changing anything, so a bad file leaves the trainer intact.
        long step = number(path, meta, "step");
        int epochs = Math.toIntExact(number(path, meta, "epochs_completed"));
        int batches = Math.toIntExact(number(path, meta, "batches_in_epoch"));
        long correct = number(path, meta, "epoch_correct"), seen = number(path, meta, "epoch_seen");
        double lossSum = decimal(path, meta, "epoch_loss_sum");
        double lr = decimal(path, meta, "learning_rate");
        RngState rng = new RngState(number(path, meta, "rng_seed"), number(path, meta, "rng_position"));
        long shuffle = number(path, meta, "shuffle_seed");
        if (shuffle != t.shuffleSeed()) {
            throw new CheckpointException(path, "was trained with shuffle seed " + shuffle + " but this trainer uses " + t.shuffleSeed()
                    + "; build the trainer with .seed(" + shuffle + ") to resume the same run");
        }
        double[] scaler = t.scaler == null ? null : scalerState(path, meta);
        ModelWeights.check(t.model(), f.tensors(), path);
        Map<Parameter, float[][]> state = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        t.model().namedParameters().forEach((name, p) -> {
            float[][] s = new float[slots.size()][];
            int found = 0;
            for (int i = 0; i < slots.size(); i++) {
                StoredTensor st = f.tensors().get(ModelWeights.OPTIMIZER_PREFIX + name + "." + slots.get(i));
                if (st == null) continue;
                if (st.elementCount() != p.shape().size()) throw new CheckpointException(path, "optimizer state of \"" + name + "\" is " + st + " but the parameter is " + p.shape());
                s[i] = st.toFloats();
                found++;
            }
            if (found == slots.size()) state.put(p, s);
            else if (found > 0 || step > 0) missing.add(name);
        });
        if (!missing.isEmpty()) throw new CheckpointException(path, "lacks optimizer state " + slots + " for " + missing);
        ModelWeights.apply(t.model(), kiln, f.tensors(), path); // validates names and shapes, then assigns

        t.optimizerState.values().forEach(bs -> { for (Buffer b : bs) b.close(); });
        t.optimizerState.clear();
        state.forEach((p, s) -> {
            Buffer[] bufs = new Buffer[s.length];
            for (int i = 0; i < s.length; i++) {
                bufs[i] = Internal.access().upload(kiln, new TensorType(DType.F32, p.shape()), MemorySegment.ofArray(s[i]));
            }
            t.optimizerState.put(p, bufs);
        });
        t.step = step;
        t.epochsDone = epochs;
        t.batchesDone = batches;
        t.epochLossSum = lossSum;
        t.epochCorrect = correct;
        t.epochSeen = seen;
        opt.setLearningRate(lr);
        kiln.restoreRngState(rng);
        if (scaler != null) t.scaler.set(scaler);
    }

    /** As PyTorch's {@code GradScaler.load_state_dict}: a scaling trainer needs the saved scaler state. */
    private static double[] scalerState(Path path, Map<String, String> meta) {
        if (!meta.containsKey(SCALER_PREFIX + LossScaler.STATE.getFirst())) {
            throw new CheckpointException(path, "was saved without loss scaling, but this trainer scales the loss; "
                    + "restore it into a trainer without loss scaling");
        }
        double[] v = new double[LossScaler.STATE.size()];
        for (int i = 0; i < v.length; i++) v[i] = decimal(path, meta, SCALER_PREFIX + LossScaler.STATE.get(i));
        if (!(v[LossScaler.SCALE] > 0) || Double.isInfinite(v[LossScaler.SCALE])) {
            throw new CheckpointException(path, "metadata \"" + SCALER_PREFIX + "scale\" must be positive and finite, got " + v[LossScaler.SCALE]);
        }
        return v;
    }

    private static long number(Path path, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new CheckpointException(path, "metadata lacks \"" + key + "\"");
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new CheckpointException(path, "metadata \"" + key + "\" is not an integer: " + v);
        }
    }

    private static double decimal(Path path, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new CheckpointException(path, "metadata lacks \"" + key + "\"");
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new CheckpointException(path, "metadata \"" + key + "\" is not a number: " + v);
        }
    }
}
