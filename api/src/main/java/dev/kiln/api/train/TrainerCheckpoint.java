package dev.kiln.api.train;

import dev.kiln.api.Kiln;
import dev.kiln.api.RngState;
import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.internal.Internal;
import dev.kiln.api.internal.MetadataFields;
import dev.kiln.api.internal.OldAttentionNames;
import dev.kiln.api.internal.OptimizerTensors;
import dev.kiln.api.internal.StagedValues;
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
    private static final System.Logger LOG = System.getLogger(TrainerCheckpoint.class.getName());
    static final String FORMAT = "kiln.trainer";
    static final String VERSION = "1";
    static final String SCALER_PREFIX = "scaler.";
    /** The running sums of a metric over the epoch so far: {@code epoch_metric.<name>}, comma-separated. */
    static final String METRIC_PREFIX = "epoch_metric.";

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
        for (int i = 0; i < t.metrics().size(); i++) {
            meta.put(METRIC_PREFIX + t.metrics().get(i).name(), java.util.Arrays.stream(t.epochMetricSums[i]).mapToObj(Double::toString)
                    .collect(java.util.stream.Collectors.joining(",")));
        }
        meta.put("rng_seed", Long.toString(rng.seed()));
        meta.put("rng_position", Long.toString(rng.position()));
        meta.put("shuffle_seed", Long.toString(t.shuffleSeed()));
        meta.put("learning_rate", Double.toString(opt.learningRate()));
        meta.put("schedule_step", Long.toString(t.step));
        meta.put("optimizer", opt.toString());
        meta.put("optimizer_state", String.join(",", slots));
        meta.put("backend", kiln.backend());
        // The position in the epoch counts this rank's batches; with the world size it maps to another world size.
        meta.put("world_size", Integer.toString(t.worldSize()));
        meta.put("gradient_accumulation", Integer.toString(t.gradientAccumulation()));
        if (t.scaler != null) {
            double[] v = t.scaler.values();
            for (int i = 0; i < v.length; i++) meta.put(SCALER_PREFIX + LossScaler.STATE.get(i), Double.toString(v[i]));
        }
        new SafeTensorsFile(tensors, meta).write(path);
    }

    /**
     * Reads and checks every field and tensor, then uploads every value, and only then changes the
     * trainer, so a bad file (a {@link CheckpointException} naming it and the field) or a failed
     * upload leaves the model, the optimizer state, the counters, the learning rate, the random
     * stream and the loss scaler as they were.
     */
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
        MetadataFields m = new MetadataFields(path, meta);
        Counters c = counters(m);
        double lr = m.finite("learning_rate", 0, false);
        RngState rng = new RngState(m.integer("rng_seed", Long.MIN_VALUE, Long.MAX_VALUE), m.integer("rng_position", 0, Long.MAX_VALUE));
        long shuffle = m.integer("shuffle_seed", Long.MIN_VALUE, Long.MAX_VALUE);
        if (shuffle != t.shuffleSeed()) {
            throw new CheckpointException(path, "was trained with shuffle seed " + shuffle + " but this trainer uses " + t.shuffleSeed()
                    + "; build the trainer with .seed(" + shuffle + ") to resume the same run");
        }
        double[] scaler = t.scaler == null ? null : scalerState(path, m, c.step);
        double[][] metricSums = metricSums(m, meta, t.metrics());
        Map<String, StoredTensor> tensors = OldAttentionNames.upgrade(t.model(), f.tensors());
        ModelWeights.check(t.model(), tensors, path);
        Map<Parameter, float[][]> state = OptimizerTensors.read(path, t.model(), slots, tensors);
        if (c.step > 0 && !slots.isEmpty()) {
            List<String> missing = new ArrayList<>();
            t.model().namedParameters().forEach((name, p) -> { if (!state.containsKey(p)) missing.add(name); });
            if (!missing.isEmpty()) throw new CheckpointException(path, "has taken " + c.step + " steps but lacks optimizer state " + slots + " for " + missing);
        }

        Map<Parameter, Buffer[]> uploaded = new LinkedHashMap<>();
        Buffer[] scalerBuffers = null;
        try (StagedValues weights = new StagedValues()) {
            try {
                weights.putState(kiln, t.model(), tensors);
                state.forEach((p, s) -> {
                    Buffer[] bufs = new Buffer[s.length];
                    uploaded.put(p, bufs);
                    for (int i = 0; i < s.length; i++) {
                        bufs[i] = Internal.access().upload(kiln, new TensorType(DType.F32, p.shape()), MemorySegment.ofArray(s[i]));
                    }
                });
                if (scaler != null) scalerBuffers = t.scaler.upload(scaler);
            } catch (RuntimeException | Error e) {
                uploaded.values().forEach(bs -> { for (Buffer b : bs) if (b != null) b.close(); });
                throw e;
            }
            weights.commit();
        }
        t.optimizerState.values().forEach(bs -> { for (Buffer b : bs) b.close(); });
        t.optimizerState.clear();
        t.optimizerState.putAll(uploaded);
        t.step = c.step;
        t.epochsDone = c.epochs;
        t.batchesDone = c.batches;
        if (c.worldSize() != t.worldSize()) {
            // Ranks take interleaved positions of one permutation, so W ranks after b batches have covered its first
            // b * W * batch positions; resuming at the floor retrains at most one global batch, and skips none.
            t.batchesDone = (int) ((long) c.batches * c.worldSize() / t.worldSize());
            LOG.log(System.Logger.Level.INFO, "{0} was saved by {1} ranks after {2} batches of the epoch; {3} ranks resume after {4} batches each",
                    path, c.worldSize(), c.batches, t.worldSize(), t.batchesDone);
        }
        // A group's checkpoint holds the epoch's metrics summed over its ranks: rank 0 carries them on.
        boolean carries = t.rank() == 0;
        t.epochLossSum = carries ? c.lossSum : 0;
        t.epochCorrect = carries ? c.correct : 0;
        t.epochSeen = carries ? c.seen : 0;
        if (carries) t.epochMetricSums = metricSums;
        else for (double[] sums : t.epochMetricSums) java.util.Arrays.fill(sums, 0);
        opt.setLearningRate(lr);
        kiln.restoreRngState(rng);
        if (scalerBuffers != null) t.scaler.replace(scalerBuffers);
    }

    /** Where the run stands: {@link Trainer}'s counters, as saved. */
    private record Counters(long step, int epochs, int batches, double lossSum, long correct, long seen, int worldSize) {}

    /**
     * The counters, each in its range and consistent with the others: every epoch and every batch
     * of the current one took a step, every batch held an example, and no more were right than seen.
     */
    private static Counters counters(MetadataFields m) {
        long step = m.integer("step", 0, Long.MAX_VALUE);
        int epochs = (int) m.integer("epochs_completed", 0, Integer.MAX_VALUE);
        int batches = (int) m.integer("batches_in_epoch", 0, Integer.MAX_VALUE);
        int world = m.has("world_size") ? (int) m.integer("world_size", 1, Integer.MAX_VALUE) : 1;
        long accumulation = m.has("gradient_accumulation") ? m.integer("gradient_accumulation", 1, Integer.MAX_VALUE) : 1;
        // Every epoch took a step, and so did every group of accumulated batches of this one.
        if (epochs + (batches + accumulation - 1) / accumulation > step) {
            throw m.fault("batches_in_epoch", "is " + batches + " after " + epochs + " epochs, but only " + step + " steps were taken"
                    + (accumulation > 1 ? " (" + accumulation + " batches per step)" : ""));
        }
        if (m.integer("schedule_step", 0, Long.MAX_VALUE) != step) throw m.fault("schedule_step", "must equal \"step\" (" + step + ")");
        long seen = m.integer("epoch_seen", 0, Long.MAX_VALUE);
        if (seen < batches) throw m.fault("epoch_seen", "is " + seen + ", fewer examples than the " + batches + " batches of the epoch");
        long correct = m.integer("epoch_correct", 0, seen);
        return new Counters(step, epochs, batches, m.number("epoch_loss_sum"), correct, seen, world);
    }

    /**
     * The epoch's running sums of each of the trainer's metrics, as saved; zeros for a metric the
     * checkpoint does not hold (saved without it), whose epoch figure then covers the batches
     * trained after the restore.
     */
    private static double[][] metricSums(MetadataFields m, Map<String, String> meta, List<Metric> metrics) {
        double[][] out = new double[metrics.size()][];
        for (int i = 0; i < out.length; i++) {
            Metric metric = metrics.get(i);
            String key = METRIC_PREFIX + metric.name(), text = meta.get(key);
            out[i] = new double[metric.stateSize()];
            if (text == null) continue;
            String[] parts = text.isEmpty() ? new String[0] : text.split(",");
            if (parts.length != out[i].length) {
                throw m.fault(key, "holds " + parts.length + " sums but the metric " + metric.name() + " keeps " + out[i].length);
            }
            for (int j = 0; j < parts.length; j++) {
                try {
                    out[i][j] = Double.parseDouble(parts[j]);
                } catch (NumberFormatException e) {
                    throw m.fault(key, "sum " + (j + 1) + " is '" + parts[j] + "', not a number");
                }
                if (!Double.isFinite(out[i][j])) throw m.fault(key, "sum " + (j + 1) + " is " + parts[j] + ", not finite");
            }
        }
        return out;
    }

    /** As PyTorch's {@code GradScaler.load_state_dict}: a scaling trainer needs the saved scaler state. */
    private static double[] scalerState(Path path, MetadataFields m, long step) {
        if (!m.has(SCALER_PREFIX + LossScaler.STATE.getFirst())) {
            throw new CheckpointException(path, "was saved without loss scaling, but this trainer scales the loss; "
                    + "restore it into a trainer without loss scaling");
        }
        double[] v = new double[LossScaler.STATE.size()];
        v[LossScaler.SCALE] = m.finite(SCALER_PREFIX + "scale", 0, true);
        // The scale lives in a float32 scalar: 1e-320 would become 0 there, 1e39 infinity.
        float asFloat = (float) v[LossScaler.SCALE];
        if (!(asFloat > 0) || Float.isInfinite(asFloat)) throw m.fault(SCALER_PREFIX + "scale", "must be a positive finite float32, got " + v[LossScaler.SCALE]);
        v[LossScaler.GOOD_STEPS] = m.count(SCALER_PREFIX + "good_steps");
        v[LossScaler.SKIPPED_STEPS] = m.count(SCALER_PREFIX + "skipped_steps");
        if (v[LossScaler.SKIPPED_STEPS] > step) throw m.fault(SCALER_PREFIX + "skipped_steps", "is " + v[LossScaler.SKIPPED_STEPS] + ", more than the " + step + " steps taken");
        return v;
    }
}
