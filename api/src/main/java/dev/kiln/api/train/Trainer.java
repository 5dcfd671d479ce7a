package dev.kiln.api.train;

import dev.kiln.api.Kiln;
import dev.kiln.api.data.Batch;
import dev.kiln.api.data.DataLoader;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.Prefetcher;
import dev.kiln.api.loss.Loss;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.optim.Optimizer;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.api.internal.Internal;
import java.nio.file.Path;
import java.util.ArrayList;
import dev.kiln.api.Tensor;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Trains a model on any supervised task the way Keras' {@code fit} does. The whole step
 * (forward, loss, backward, optimizer) is traced and compiled once per batch shape and then
 * reused every iteration.
 *
 * <pre>{@code
 * Trainer t = Trainer.builder(kiln, model).loss(Loss.softmaxCrossEntropy()).optimizer(new Adam(1e-3)).batchSize(32).build();
 * History h = t.fit(FashionMnist.train(), 5);
 * Evaluation e = t.evaluate(FashionMnist.test());
 *
 * // regression: float targets [1], a loss over (output, target), metrics by name
 * Trainer r = Trainer.builder(kiln, net).loss(Loss.mse()).metrics(Metric.rootMeanSquaredError()).optimizer(new Adam(1e-3)).build();
 * r.fit(ArrayDataset.of(x, y), 100);
 * double rmse = r.evaluate(test).metric("rmse");
 * Tensor predictions = r.predict(test);
 * }</pre>
 *
 * <p><b>Targets.</b> The loss gets the model's output and the batch's targets as the dataset
 * describes them ({@link Dataset#targetType()}, {@link Dataset#targetShape()}): {@code [n]} ints
 * for class labels (the default), {@code [n, ...]} floats for regression or multi-label, {@code [n, s]}
 * ints for a label per position. Accuracy, top-k and the confusion matrix are measured for one
 * class label per example only; any other measurement is a {@link Metric} ({@link Builder#metrics}).
 *
 * <p>A run can be saved with {@link #save} at any step and continued with {@link #restore}: the
 * parameters, optimizer state, step counter, position in the epoch, learning-rate schedule and the
 * Kiln's random stream come back, so on the same plugin the resumed run computes bit for bit what
 * the uninterrupted one would have.
 *
 * <p>With fp16-mixed precision, or when {@link Builder#lossScaling} asks for it, the step scales
 * the loss dynamically ({@link LossScaling}); {@link #lossScale()} and {@link #skippedSteps()}
 * report how that goes.
 *
 * <p><b>Threads.</b> A trainer is one training loop: {@link #fit}, {@link #evaluate},
 * {@link #save} and {@link #restore} run one at a time, and a call from a second thread while one
 * runs fails at once with {@link IllegalStateException} (callbacks may call them on the loop's own
 * thread). Several trainers, on one {@link Kiln} or several, run concurrently. {@link #close()}
 * may be called from any thread: a running {@code fit} or {@code evaluate} stops before its next
 * step with {@link IllegalStateException}, the trainer's memory is freed when it returns, and a
 * closed trainer refuses to run. Anything user code throws — a {@link Dataset}, a callback, a
 * loss — reaches the caller of {@code fit} with the batch-preparing thread stopped.
 *
 * <p>Labels must lie in {@code [0, classes)}, {@code classes} being the width of the model's
 * output (per position for a label per position); a batch with any other label is refused before
 * it runs, naming the batch and the value.
 */
public final class Trainer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Trainer.class.getName());

    private final Kiln kiln;
    private final Module model;
    private final Loss loss;
    /** The builder was given no loss, so {@link #loss} is softmax cross-entropy, for class labels only. */
    private final boolean defaultLoss;
    private final Optimizer optimizer;
    private final int batchSize;
    private final long seed;
    private final double validationSplit;
    private final int topK;
    private final boolean shuffle;
    private final List<Metric> metrics;
    private final List<Callback> callbacks;
    /** Compiled steps by the batch's feature and target types: a trainer may see sets of several target types. */
    private final Map<StepKey, CompiledStep> trainSteps = new HashMap<>();
    private final Map<StepKey, CompiledStep> evalSteps = new HashMap<>();
    /** The forward passes {@link #predict} compiled, by feature shape (package-private for the tests). */
    final Map<Shape, CompiledStep> predictSteps = new HashMap<>();
    final Map<Parameter, Buffer[]> optimizerState = new IdentityHashMap<>();
    /** Null without loss scaling. */
    final LossScaler scaler;
    // Where the run stands; all of it goes into a checkpoint so a restored trainer continues exactly.
    long step;
    int epochsDone;
    int batchesDone;
    double epochLossSum;
    long epochCorrect, epochSeen;
    /** The running sums of {@link #metrics} over the epoch's training batches (in a checkpoint as {@code epoch_metric.<name>}). */
    double[][] epochMetricSums;
    private volatile boolean stopRequested;
    /** The thread running fit/evaluate/save/restore, {@link #CLOSING} once closed, else null. */
    private final AtomicReference<Object> runner = new AtomicReference<>();
    private static final Object CLOSING = new Object();
    /** Nesting of guarded calls on the runner thread (fit calls evaluate; callbacks may save). */
    private int depth;
    private volatile boolean closed;
    private boolean freed;
    /** Null for a single process. */
    private final DataParallel dist;
    private final int accumulation;
    /** Micro-batches accumulated into the gradient buckets since the last optimizer step, of {@link #group}. */
    int micro;
    /** Micro-batches in the step being accumulated: the accumulation, or fewer at the end of an epoch. */
    private int group;
    private final CompiledStep.SharedBuckets buckets = new CompiledStep.SharedBuckets();

    private Trainer(Builder b) {
        this.kiln = b.kiln;
        this.model = b.model;
        this.loss = b.loss;
        this.defaultLoss = b.defaultLoss;
        this.optimizer = b.optimizer;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.validationSplit = b.validationSplit;
        this.topK = b.topK;
        this.shuffle = b.shuffle;
        this.metrics = List.copyOf(b.metrics);
        this.epochMetricSums = newSums(metrics);
        this.callbacks = List.copyOf(b.callbacks);
        this.dist = DataParallel.of(kiln);
        this.accumulation = b.accumulation;
        LossScaling scaling = b.lossScaling != null ? b.lossScaling
                : kiln.precision().lossScaling() ? LossScaling.dynamic() : null;
        this.scaler = scaling == null ? null : new LossScaler(kiln, scaling);
    }

    public static Builder builder(Kiln kiln, Module model) { return new Builder(kiln, model); }

    /** Asks {@link #fit} to stop after the current epoch (for early-stopping callbacks). */
    public void stop() { stopRequested = true; }

    /** Training steps taken so far, including those loss scaling skipped. */
    public long steps() { return step; }

    /**
     * The loss scale the next step will use, read from the accelerator (so not for every step);
     * 1 without loss scaling, as PyTorch's {@code GradScaler.get_scale()}.
     */
    public double lossScale() { return scaler == null ? 1 : scaler.values()[LossScaler.SCALE]; }

    /** Steps whose gradients overflowed, so loss scaling left the parameters as they were; 0 without it. */
    public long skippedSteps() { return scaler == null ? 0 : (long) scaler.values()[LossScaler.SKIPPED_STEPS]; }

    /** The loss-scaling settings, or null when the loss is not scaled. */
    public LossScaling lossScaling() { return scaler == null ? null : scaler.config; }

    /** Epochs completed so far; {@link #fit} continues after them. */
    public int epochsCompleted() { return epochsDone; }

    public Kiln kiln() { return kiln; }

    public Module model() { return model; }

    public Optimizer optimizer() { return optimizer; }

    /** The metrics of {@link Builder#metrics}, measured in {@link #fit} and {@link #evaluate}. */
    public List<Metric> metrics() { return metrics; }

    /** This process's rank in the Kiln's process group, 0 for a single process. */
    public int rank() { return dist == null ? 0 : dist.rank(); }

    /** How many processes train together: 1 unless the Kiln was opened with a process group. */
    public int worldSize() { return dist == null ? 1 : dist.worldSize(); }

    /** Rank 0, the process that writes checkpoints, logs and progress. */
    public boolean isMainProcess() { return dist == null || dist.isMain(); }

    /**
     * Seconds this process has waited for gradient all-reduces since it was built: the
     * communication the step does not hide (PyTorch's DDP reports the same as its comm time). 0
     * for a single process.
     */
    public double gradientSyncSeconds() { return dist == null ? 0 : dist.gradientSeconds(); }

    /** Micro-batches whose gradients are summed into one optimizer step ({@link Builder#gradientAccumulation}). */
    public int gradientAccumulation() { return accumulation; }

    long shuffleSeed() { return seed; }

    /**
     * Trains until {@code epochs} epochs are complete in total, as Lightning's {@code max_epochs}:
     * a fresh trainer runs epochs 1..epochs, a restored one continues where its checkpoint left
     * off. With {@link Builder#validationSplit} a fraction of {@code train} is held out and
     * evaluated after every epoch.
     */
    public History fit(Dataset train, int epochs) {
        if (validationSplit > 0) {
            // The split's seed is fixed by the trainer's, so a resumed run holds out the same examples.
            Dataset.Partition p = train.split(1 - validationSplit, seed ^ 0x5EED_5917L);
            return fit(p.first(), p.second(), epochs);
        }
        return fit(train, null, epochs);
    }

    public History fit(Dataset train, Dataset validation, int epochs) {
        begin("fit");
        try {
            return fitGuarded(train, validation, epochs);
        } finally {
            end();
        }
    }

    private History fitGuarded(Dataset train, Dataset validation, int epochs) {
        if (epochs <= 0) throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        if (train.size() == 0) throw new IllegalArgumentException("the training set is empty");
        DataLoader.Builder lb = DataLoader.builder(train, batchSize).shuffle(shuffle).seed(seed);
        boolean classification = isClassification(train);
        requireLossFor(train, "fit");
        if (dist != null) {
            if (train.size() < dist.worldSize()) {
                throw new IllegalArgumentException("fit: " + train.size() + " training examples cannot be shared by " + dist.worldSize() + " ranks");
            }
            lb.shard(dist.rank(), dist.worldSize());
            startFromMain();
        }
        DataLoader loader = lb.build();
        List<EpochLogs> logs = new ArrayList<>();
        stopRequested = false;
        if (epochsDone >= epochs) {
            LOG.log(System.Logger.Level.WARNING, "fit: {0} epochs are already complete, nothing to train", epochsDone);
        }
        List<Callback> callbacks = activeCallbacks();
        callbacks.forEach(c -> c.onTrainBegin(this, epochs));
        for (int epoch = epochsDone + 1; epoch <= epochs && !stopRequested; epoch++) {
            int steps = loader.batchesPerEpoch();
            if (batchesDone > steps) {
                throw new IllegalArgumentException("fit: the restored run stopped after batch " + batchesDone + " of epoch " + epoch
                        + ", but this training set has only " + steps + " batches of " + batchSize + " per epoch; resume with the data the run was saved with");
            }
            for (Callback c : callbacks) c.onEpochBegin(epoch, epochs, steps);
            long start = System.nanoTime();
            int skip = batchesDone;
            if (skip == 0) {
                epochLossSum = 0;
                epochCorrect = epochSeen = 0;
                epochMetricSums = newSums(metrics);
            }
            // Batches are prepared on a background thread while the accelerator runs the step.
            try (Prefetcher prefetch = new Prefetcher(loader, epoch - 1, 2)) {
                int index = 0;
                for (Batch batch : (Iterable<Batch>) () -> prefetch) {
                    index++;
                    if (skip > 0) { // a restored run: these batches were trained before the checkpoint
                        skip--;
                        continue;
                    }
                    BatchLogs bl = trainOn(batch, epoch, steps, steps - index + 1, classification);
                    double secs = (System.nanoTime() - start) / 1e9;
                    double meanAccuracy = classification ? (double) epochCorrect / epochSeen : Double.NaN;
                    for (Callback c : callbacks) {
                        c.onTrainBatchEnd(bl);
                        c.onBatchEnd(batchesDone, steps, epochLossSum / epochSeen, meanAccuracy, epochSeen, secs);
                    }
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            epochsDone = epoch;
            batchesDone = 0;
            double lossSum = epochLossSum, correct = epochCorrect, seen = epochSeen;
            double[][] metricSums = epochMetricSums;
            if (dist != null) {
                // Every rank gets the same sums, so callbacks (early stopping, plateaus) decide the same on every rank.
                double[] all = dist.sum(withSums(new double[] {epochLossSum, epochCorrect, epochSeen, stopRequested ? 1 : 0}, metricSums),
                        "epoch " + epoch + " metrics");
                lossSum = all[0];
                correct = all[1];
                seen = all[2];
                stopRequested = all[3] > 0;
                metricSums = unpackSums(metrics, all, 4);
            }
            Map<String, Double> values = new LinkedHashMap<>(values(metricSums, ""));
            double vl = Double.NaN, va = Double.NaN;
            if (validation != null) {
                Evaluation e = evaluate(validation);
                vl = e.loss();
                va = e.accuracy();
                e.metrics().forEach((k, v) -> values.put("val_" + k, v));
            }
            EpochLogs l = new EpochLogs(epoch, epochs, lossSum / seen, classification ? correct / seen : Double.NaN, secs, seen / secs, vl, va, values);
            logs.add(l);
            for (Callback c : callbacks) c.onEpochEnd(l);
        }
        History h = new History(logs);
        callbacks.forEach(c -> c.onTrainEnd(h));
        return h;
    }

    /**
     * One optimizer step on {@code batch}, compiled and cached as {@code fit}'s steps are (Keras's
     * {@code train_on_batch}): for a loop of one's own, with its own data, schedule of evaluation or
     * stopping rule, at the compiled step's speed. The step counts for the optimizer (and its
     * schedule) but not for fit's epochs, logs or callbacks. Returns the batch's loss.
     *
     * @throws IllegalStateException with gradient accumulation, or in a process group (use fit)
     */
    public double trainOnBatch(Batch batch) {
        begin("trainOnBatch");
        try {
            if (accumulation != 1) throw new IllegalStateException("trainOnBatch applies one optimizer step per batch; this trainer accumulates " + accumulation + " micro-batches");
            if (dist != null) throw new IllegalStateException("trainOnBatch: in a process group of " + dist.worldSize() + " ranks, train with fit");
            if (batch.size() == 0) throw new IllegalArgumentException("trainOnBatch: the batch is empty");
            boolean classification = batch.labels() != null && batch.targetShape().rank() == 1;
            if (defaultLoss && !classification) {
                throw defaultLossRefuses("trainOnBatch", "the batch has " + batch.targetType() + " targets of shape " + batch.targetShape(), batch.targetType());
            }
            // The step alone: fit's epoch sums and batch count are not this loop's.
            return runStep("trainOnBatch", batch, epochsDone + 1, 1, 1).result().loss();
        } finally {
            end();
        }
    }

    /** Which parameters the compiled training steps update; null before the first. */
    private java.util.BitSet trainableCompiled;
    /** {@link Parameter#trainableChanges()} when {@link #trainableCompiled} was taken. */
    private long trainableSeen = -1;

    /**
     * A step compiled before parameters were frozen or unfrozen would keep training the old set:
     * drop the compiled steps when the set changes, so the next batch compiles for the new one.
     * One counter read per step; the model is walked only after some parameter changed.
     */
    private void recompileIfFrozenChanged() {
        long changes = Parameter.trainableChanges();
        if (changes == trainableSeen) return;
        trainableSeen = changes;
        List<Parameter> ps = model.parameters();
        java.util.BitSet now = new java.util.BitSet(ps.size());
        for (int i = 0; i < ps.size(); i++) if (ps.get(i).isTrainable()) now.set(i);
        if (trainableCompiled != null && !trainableCompiled.equals(now)) {
            trainSteps.values().forEach(CompiledStep::close);
            trainSteps.clear();
        }
        trainableCompiled = now;
    }

    /** One batch; with accumulation one micro-batch, the step applied after the last of a group or of the epoch ({@code batchesLeft} counts this one). */
    private BatchLogs trainOn(Batch batch, int epoch, int steps, int batchesLeft, boolean classification) {
        Stepped st = runStep("fit", batch, epoch, batchesLeft, batchesDone + 1);
        CompiledStep.Result r = st.result();
        batchesDone++;
        epochLossSum += (double) r.loss() * batch.size();
        if (classification) epochCorrect += Metrics.correct(r.output(), batch.labels(), batch.size());
        epochSeen += batch.size();
        for (int m = 0; m < metrics.size(); m++) metrics.get(m).update(r.output(), st.step().outputShape(), batch, epochMetricSums[m]);
        return new BatchLogs(epoch, batchesDone, steps, step, r.loss(), epochLossSum / epochSeen, st.lr(), r.output(), st.step().outputShape(), batch);
    }

    /** What one batch's run of the compiled step gave: its result, the step that ran, and the rate it used. */
    private record Stepped(CompiledStep.Result result, CompiledStep step, double lr) {}

    /**
     * The compiled step on one batch (compiled on first use), and the optimizer step once the
     * batch closes an accumulation group ({@code batchesLeft} counts this one); no epoch accounting,
     * which is {@link #trainOn}'s. {@code batchIndex} names the batch in messages.
     */
    private Stepped runStep(String what, Batch batch, int epoch, int batchesLeft, int batchIndex) {
        checkNotClosed(what);
        recompileIfFrozenChanged();
        CompiledStep cs = trainSteps.get(StepKey.of(batch));
        if (cs == null) {
            cs = compile(batch, true);
            trainSteps.put(StepKey.of(batch), cs);
            checkMetrics(metrics, cs, batch);
        }
        checkLabels(batch, cs, "training batch", batchIndex, epoch);
        double lr = optimizer.learningRateAt(step);
        // The step takes the rate as a float32 scalar: a rate that is not a finite, non-negative float would train to NaN.
        if (!(lr >= 0) || !Float.isFinite((float) lr)) {
            throw new IllegalArgumentException(what + ": the learning rate at step " + (step + 1) + " is " + lr + "; it must be finite, >= 0 and within float range");
        }
        if (dist != null) syncBuffers();
        StepEvent ev = Flight.started() ? new StepEvent() : null;
        if (ev != null) ev.begin();
        CompiledStep.Result r;
        if (!cs.isSplit()) {
            r = cs.run(batch.features(), targets(batch), lr, step + 1, optimizerState);
            step++;
        } else {
            // Only the last micro-batch of a step all-reduces, as inside PyTorch's no_sync().
            if (micro == 0) group = Math.min(accumulation, batchesLeft);
            r = cs.gradients(batch.features(), targets(batch), micro == 0, 1.0 / ((double) group * worldSize()));
            micro++;
            if (micro == group) {
                cs.applyGradients(lr, step + 1, optimizerState);
                step++;
                micro = 0;
            }
        }
        if (ev != null && ev.shouldCommit()) {
            ev.step = step;
            ev.epoch = epoch;
            ev.batchSize = batch.size();
            ev.loss = r.loss();
            ev.learningRate = lr;
            ev.commit();
        }
        return new Stepped(r, cs, lr);
    }

    /** The batch's targets as the step's second input: its labels or its float targets. */
    private static java.lang.foreign.MemorySegment targets(Batch batch) {
        return batch.labels() != null ? java.lang.foreign.MemorySegment.ofArray(batch.labels()) : java.lang.foreign.MemorySegment.ofArray(batch.targets());
    }

    /** The default loss reads one class label per example; other targets need a loss chosen for them. */
    private void requireLossFor(Dataset data, String what) {
        if (!defaultLoss || isClassification(data)) return;
        throw defaultLossRefuses(what, data + " has " + data.targetType() + " targets of shape " + data.targetShape(), data.targetType());
    }

    /** Why the default loss cannot train on targets other than one class label, and which loss to set instead. */
    private static IllegalArgumentException defaultLossRefuses(String what, String has, DType targetType) {
        String hint = targetType == DType.F32
                ? "Loss.mse() or Loss.huber(1, Reduction.MEAN) for regression, Loss.bceWithLogits(Reduction.MEAN) for multi-label 0/1 targets"
                : "a loss that reads labels of that shape, e.g. cross-entropy over output.reshape(-1, classes) and target.reshape(-1)";
        return new IllegalArgumentException(what + ": " + has
                + ", but the trainer has the default loss, softmax cross-entropy, which needs one class label per example;"
                + " set one with Trainer.builder(...).loss(...): " + hint);
    }

    /** Refuses null metrics and two of one name: their values are reported by name. */
    private static List<Metric> checkedMetrics(List<Metric> ms) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Metric m : ms) {
            java.util.Objects.requireNonNull(m, "metric");
            if (!names.add(java.util.Objects.requireNonNull(m.name(), "metric name"))) {
                throw new IllegalArgumentException("two metrics are named '" + m.name() + "'; their values are reported by name, so give each its own");
            }
        }
        return List.copyOf(ms);
    }

    /** One class label per example: the targets accuracy, top-k and the confusion matrix are measured on. */
    private static boolean isClassification(Dataset data) {
        return data.targetType() == DType.I32 && data.targetShape().rank() == 0;
    }

    /** What a compiled step is specialised to: the batch's feature shape and its targets' type and shape. */
    private record StepKey(Shape features, TensorType targets) {
        static StepKey of(Batch b) { return new StepKey(b.featureShape(), new TensorType(b.targetType(), b.targetShape())); }
    }

    private static double[][] newSums(List<Metric> ms) {
        double[][] sums = new double[ms.size()][];
        for (int m = 0; m < sums.length; m++) sums[m] = new double[ms.get(m).stateSize()];
        return sums;
    }

    /** {@code head} followed by every metric's sums, to be summed over the ranks in one collective. */
    private static double[] withSums(double[] head, double[][] sums) {
        int n = head.length;
        for (double[] s : sums) n = Math.addExact(n, s.length);
        double[] v = java.util.Arrays.copyOf(head, n);
        int at = head.length;
        for (double[] s : sums) {
            System.arraycopy(s, 0, v, at, s.length);
            at += s.length;
        }
        return v;
    }

    /** The sums of {@code ms} from {@code all}, from position {@code at}, in the layout of {@link #withSums}. */
    private static double[][] unpackSums(List<Metric> ms, double[] all, int at) {
        double[][] sums = newSums(ms);
        for (double[] s : sums) {
            System.arraycopy(all, at, s, 0, s.length);
            at += s.length;
        }
        return sums;
    }

    private Map<String, Double> values(double[][] sums, String prefix) {
        return values(metrics, sums, prefix);
    }

    private static Map<String, Double> values(List<Metric> ms, double[][] sums, String prefix) {
        Map<String, Double> v = new LinkedHashMap<>();
        for (int m = 0; m < ms.size(); m++) v.put(prefix + ms.get(m).name(), ms.get(m).compute(sums[m]));
        return v;
    }

    /** Each metric's own check of the output and targets, once per compiled step (a new batch shape). */
    private static void checkMetrics(List<Metric> ms, CompiledStep cs, Batch batch) {
        for (Metric m : ms) m.check(cs.outputShape(), batch);
    }

    /**
     * Mean loss and the {@link Builder#metrics} over {@code data}, with the model in evaluation
     * mode; for one class label per example also accuracy, top-k accuracy ({@link Builder#topK})
     * and the confusion matrix. In a process group each rank evaluates its share and every rank
     * gets the whole set's figures.
     */
    public Evaluation evaluate(Dataset data) { return evaluate(data, metrics.toArray(Metric[]::new)); }

    /** {@link #evaluate(Dataset)} measuring {@code metrics} instead of the builder's. */
    public Evaluation evaluate(Dataset data, Metric... metrics) {
        List<Metric> ms = checkedMetrics(List.of(metrics));
        begin("evaluate");
        try {
            return evaluateGuarded(data, ms);
        } finally {
            end();
        }
    }

    private Evaluation evaluateGuarded(Dataset data, List<Metric> ms) {
        EvaluateEvent ev = Flight.started() ? new EvaluateEvent() : null;
        if (ev != null) ev.begin();
        Evaluation e = evaluateAll(data, ms);
        if (ev != null && ev.shouldCommit()) {
            ev.samples = e.samples();
            ev.loss = e.loss();
            ev.accuracy = e.accuracy();
            ev.commit();
        }
        return e;
    }

    private Evaluation evaluateAll(Dataset data, List<Metric> ms) {
        Dataset mine = data;
        if (dist != null) {
            if (data.size() < dist.worldSize()) {
                throw new IllegalArgumentException("evaluate: " + data.size() + " examples cannot be shared by " + dist.worldSize() + " ranks");
            }
            // Rank r evaluates examples r, r + world, ...: each exactly once, so the summed metrics are the whole set's.
            int[] idx = new int[(data.size() - dist.rank() + dist.worldSize() - 1) / dist.worldSize()];
            for (int i = 0; i < idx.length; i++) idx[i] = dist.rank() + i * dist.worldSize();
            mine = data.subset(idx);
        }
        boolean classification = isClassification(data);
        requireLossFor(data, "evaluate");
        DataLoader loader = DataLoader.builder(mine, batchSize).shuffle(false).build();
        double lossSum = 0;
        long correct = 0, topCorrect = 0;
        int seen = 0;
        ConfusionMatrix confusion = null;
        int classes = 0;
        int batchIndex = 0;
        double[][] sums = newSums(ms);
        Shape checkedFor = null;
        for (Batch batch : loader) {
            checkNotClosed("evaluate");
            CompiledStep cs = evalSteps.computeIfAbsent(StepKey.of(batch), k -> compile(batch, false));
            if (!cs.outputShape().equals(checkedFor)) {
                checkMetrics(ms, cs, batch);
                checkedFor = cs.outputShape();
            }
            checkLabels(batch, cs, "evaluation batch", ++batchIndex, 0);
            CompiledStep.Result r = cs.run(batch.features(), targets(batch), 0, 0, optimizerState);
            lossSum += (double) r.loss() * batch.size();
            for (int m = 0; m < ms.size(); m++) ms.get(m).update(r.output(), cs.outputShape(), batch, sums[m]);
            seen += batch.size();
            if (!classification) continue;
            correct += Metrics.correct(r.output(), batch.labels(), batch.size());
            classes = r.output().length / batch.size();
            Metrics.requireOutputPerClass(classes, data);
            if (confusion == null) confusion = new ConfusionMatrix(Math.max(classes, data.numClasses()));
            Metrics.confusion(confusion, r.output(), batch.labels(), batch.size());
            topCorrect += Metrics.topKCorrect(r.output(), batch.labels(), batch.size(), topK);
        }
        if (dist != null && !classification) {
            double[] all = dist.sum(withSums(new double[] {lossSum, seen}, sums), "evaluation metrics");
            lossSum = all[0];
            seen = (int) all[1];
            sums = unpackSums(ms, all, 2);
        } else if (dist != null) {
            int n = Math.max(classes, data.numClasses());
            if (confusion == null) confusion = new ConfusionMatrix(n);
            double[] v = new double[Math.addExact(4, Math.multiplyExact(n, n))];
            v[0] = lossSum;
            v[1] = correct;
            v[2] = topCorrect;
            v[3] = seen;
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) v[4 + i * n + j] = confusion.count(i, j);
            double[] all = dist.sum(withSums(v, sums), "evaluation metrics");
            lossSum = all[0];
            correct = (long) all[1];
            topCorrect = (long) all[2];
            seen = (int) all[3];
            ConfusionMatrix total = new ConfusionMatrix(n);
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) total.add(i, j, (long) all[4 + i * n + j]);
            confusion = total;
            classes = n;
            sums = unpackSums(ms, all, v.length);
        }
        Map<String, Double> values = values(ms, sums, "");
        if (!classification) return new Evaluation(lossSum / seen, Double.NaN, seen, 0, Double.NaN, null, values);
        boolean useTopK = topK > 0 && classes > topK;
        return new Evaluation(lossSum / seen, (double) correct / seen, seen, useTopK ? topK : 0,
                useTopK ? (double) topCorrect / seen : Double.NaN, confusion, values);
    }

    /**
     * The model's outputs for every example of {@code data}, in order, as one tensor
     * {@code [size, ...output]}, as Keras' {@code predict}: in evaluation mode (dropout off,
     * batch-norm running statistics), in batches of the builder's size, the forward pass compiled
     * once per batch shape and kept for later calls. Only {@link Dataset#features} is read, so
     * the dataset needs no targets; nothing of the optimizer or of the run's position changes.
     * In a process group each rank predicts the whole set itself.
     */
    public Tensor predict(Dataset data) {
        java.util.Objects.requireNonNull(data, "data");
        begin("predict");
        try {
            return predictAll(data.size(), data.exampleShape(), data::features, String.valueOf(data));
        } finally {
            end();
        }
    }

    /** {@link #predict(Dataset)} for the examples along the first dimension of {@code x} ({@code [n, ...exampleShape]}, read as F32). */
    public Tensor predict(Tensor x) {
        java.util.Objects.requireNonNull(x, "x");
        if (x.shape().rank() == 0) throw new IllegalArgumentException("predict: x needs a batch dimension first, got a scalar");
        begin("predict");
        try {
            int[] dims = x.shape().dims();
            Shape example = Shape.of(java.util.Arrays.copyOfRange(dims, 1, dims.length));
            int exampleSize = Math.toIntExact(example.size());
            float[] host = x.toFloatArray();
            return predictAll(dims[0], example, (i, dst, off) -> System.arraycopy(host, i * exampleSize, dst, off, exampleSize), "tensor " + x.shape());
        } finally {
            end();
        }
    }

    /** Copies example {@code index}'s features into {@code dst} at {@code offset}: {@link Dataset#features}. */
    private interface Features {
        void copy(int index, float[] dst, int offset);
    }

    private Tensor predictAll(int size, Shape example, Features features, String what) {
        if (size == 0) throw new IllegalArgumentException("predict: " + what + " has no examples, so the output's shape is unknown");
        int exampleSize = Math.toIntExact(example.size());
        int[] exampleDims = example.dims();
        float[] out = null, x = null;
        int perExample = 0;
        Shape outShape = null;
        for (int from = 0; from < size; from += batchSize) {
            checkNotClosed("predict");
            int n = Math.min(batchSize, size - from);
            if (x == null || x.length != n * exampleSize) x = new float[Math.multiplyExact(n, exampleSize)];
            for (int i = 0; i < n; i++) features.copy(from + i, x, i * exampleSize);
            int[] dims = new int[exampleDims.length + 1];
            dims[0] = n;
            System.arraycopy(exampleDims, 0, dims, 1, exampleDims.length);
            Shape xs = Shape.of(dims);
            CompiledStep cs = predictSteps.computeIfAbsent(xs, k -> compilePredict(xs));
            float[] y = cs.run(x, null, 0, 0, optimizerState).output();
            if (out == null) {
                outShape = cs.outputShape();
                if (outShape.rank() == 0 || outShape.dim(0) != n) {
                    throw new IllegalArgumentException("predict: the model's output " + outShape + " for a batch " + xs + " has no batch dimension first");
                }
                perExample = y.length / n;
                out = new float[Math.multiplyExact(size, perExample)];
            }
            System.arraycopy(y, 0, out, from * perExample, n * perExample);
        }
        int[] od = outShape.dims();
        od[0] = size;
        return kiln.tensor(out, od);
    }

    /**
     * Writes the whole training state to a safetensors file, atomically: parameters under their
     * {@link Module#namedParameters()} names, optimizer state as {@code optimizer.<name>.<slot>},
     * and step, epoch, position, learning rate, RNG state and the loss-scaling state
     * ({@code scaler.scale}, {@code scaler.good_steps}, {@code scaler.skipped_steps}) in the metadata. See
     * {@code docs/checkpoints.md}.
     */
    public void save(Path path) {
        begin("save");
        try {
            if (micro != 0) {
                throw new IllegalStateException("save: " + micro + " of " + accumulation + " micro-batches are accumulated but not applied;"
                        + " save between optimizer steps (every " + accumulation + " batches)");
            }
            if (dist == null) {
                TrainerCheckpoint.save(this, path);
            } else {
                saveOnMain(path);
            }
        } finally {
            end();
        }
    }

    /**
     * Loads a checkpoint written by {@link #save} into this trainer, whose model must have the same
     * parameter names and shapes. Everything is validated before anything changes, so a bad file
     * leaves the trainer as it was. The next {@link #fit} continues the saved run.
     */
    public void restore(Path path) {
        begin("restore");
        try {
            TrainerCheckpoint.restore(this, path);
            micro = 0;
            // Compiled steps may hold on to the buffers they were built with; recompiling is cheap next to a restore.
            closeSteps();
        } finally {
            end();
        }
    }

    /**
     * Rank 0 writes; every rank learns whether it worked (a sum of failure flags, so no rank waits
     * at a barrier for a writer that failed), and returns only once the file is complete.
     */
    private void saveOnMain(Path path) {
        RuntimeException failure = null;
        // The epoch's running metrics are summed over the ranks, so the file holds the whole job's.
        double[] sums = dist.sum(withSums(new double[] {epochLossSum, epochCorrect, epochSeen}, epochMetricSums), "checkpoint metrics");
        if (dist.isMain()) {
            double ls = epochLossSum;
            long c = epochCorrect, n = epochSeen;
            double[][] ms = epochMetricSums;
            epochLossSum = sums[0];
            epochCorrect = (long) sums[1];
            epochSeen = (long) sums[2];
            epochMetricSums = unpackSums(metrics, sums, 3);
            try {
                TrainerCheckpoint.save(this, path);
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                epochLossSum = ls;
                epochCorrect = c;
                epochSeen = n;
                epochMetricSums = ms;
            }
        }
        double failed = dist.sum(new double[] {failure != null ? 1 : 0}, "checkpoint " + path)[0];
        if (failure != null) throw failure;
        if (failed > 0) throw new IllegalStateException("save: rank 0 could not write the checkpoint " + path + "; see its log");
    }

    /**
     * Every rank starts from rank 0's parameters, module buffers, optimizer state and loss scale,
     * as PyTorch's DDP broadcasts at construction: initialisation, or a checkpoint only rank 0
     * read right, can differ between processes, and data-parallel training needs them identical.
     */
    private void startFromMain() {
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) dist.broadcastFromMain(e.getValue().value(kiln), "parameter " + e.getKey());
        // Walked once per fit, not per step: the module tree and its buffers do not change during a fit.
        moduleBuffers = List.copyOf(model.namedBuffers().entrySet());
        syncBuffers();
        Internal.Access a = Internal.access();
        a.enter(kiln);
        try {
            // In the model's parameter order: optimizerState is an identity map, whose order differs between processes.
            for (Parameter p : model.parameters()) {
                Buffer[] bs = optimizerState.get(p);
                if (bs != null) for (Buffer b : bs) dist.broadcastFromMain(b, "optimizer state");
            }
            if (scaler != null) for (Buffer b : scaler.state()) dist.broadcastFromMain(b, "loss-scaler state");
        } finally {
            a.exit(kiln);
        }
    }

    /** Module buffers (batch-norm statistics) from rank 0 before every step: DDP's {@code broadcast_buffers=True}. */
    private void syncBuffers() {
        for (Map.Entry<String, Parameter> e : moduleBuffers) dist.broadcastFromMain(e.getValue().value(kiln), "buffer " + e.getKey());
    }

    /** The model's named buffers, read at the start of each data-parallel fit. */
    private List<Map.Entry<String, Parameter>> moduleBuffers = List.of();

    /** On ranks other than 0, callbacks that only write (progress, logs, plots) are left out. */
    private List<Callback> activeCallbacks() {
        if (isMainProcess()) return callbacks;
        return callbacks.stream().filter(c -> !c.mainProcessOnly()).toList();
    }

    /**
     * Refuses labels outside {@code [0, classes)}: the loss would silently leave them out (a
     * one-hot of an out-of-range label is all zeros) and the metrics would read another row.
     */
    private static void checkLabels(Batch batch, CompiledStep cs, String kind, int index, int epoch) {
        int[] labels = batch.labels();
        int classes = cs.classes();
        // Float targets have no range; integer ones the outputs do not divide among are read by the loss its own way.
        if (labels == null || classes == 0) return;
        int per = batch.targetSize();
        for (int i = 0, n = batch.size() * per; i < n; i++) {
            int y = labels[i];
            if (y < 0 || y >= classes) {
                // The message is built only here: the check runs every step.
                String where = kind + " " + index + (epoch > 0 ? " of epoch " + epoch : "");
                String which = per == 1 ? "example " + i : "example " + i / per + " (target element " + i % per + ")";
                throw new IllegalArgumentException(where + ": label " + y + " of " + which + " is outside [0, " + classes
                        + "), the model's " + classes + " output classes");
            }
        }
    }

    /** Claims the trainer for the calling thread, or fails if it is closed or another thread runs it. */
    private void begin(String what) {
        Thread me = Thread.currentThread();
        checkNotClosed(what);
        if (runner.get() == me) {
            depth++;
            return;
        }
        if (!runner.compareAndSet(null, me)) {
            Object other = runner.get();
            if (other == CLOSING) checkNotClosed(what);
            throw new IllegalStateException("cannot " + what + ": this Trainer is already running on thread "
                    + (other instanceof Thread t ? "'" + t.getName() + "'" : "?") + "; a Trainer is one training loop, use one per thread");
        }
        Trainer owner, groupOwner = null;
        synchronized (MODELS_IN_USE) {
            owner = MODELS_IN_USE.putIfAbsent(model, this);
            // Collectives must be made in the same order on every rank: two loops on one group would interleave theirs.
            if ((owner == null || owner == this) && dist != null) {
                groupOwner = GROUPS_IN_USE.putIfAbsent(dist.key(), this);
                if (groupOwner != null && groupOwner != this && owner == null) MODELS_IN_USE.remove(model, this);
            }
        }
        if ((owner != null && owner != this) || (groupOwner != null && groupOwner != this)) {
            runner.set(null);
            if (closed && runner.compareAndSet(null, CLOSING)) free();
            throw new IllegalStateException("cannot " + what + ": " + (owner != null && owner != this
                    ? "the model is in use by another Trainer right now; two trainers updating one model at once would interleave their updates"
                    : "another Trainer is running on this Kiln's process group; its ranks' collectives would interleave with this one's, so one data-parallel Trainer runs at a time"));
        }
        depth = 1;
    }

    private void end() {
        if (--depth > 0) return;
        synchronized (MODELS_IN_USE) {
            MODELS_IN_USE.remove(model, this);
            if (dist != null) GROUPS_IN_USE.remove(dist.key(), this);
        }
        runner.set(null);
        if (closed && runner.compareAndSet(null, CLOSING)) free();
    }

    /** Models a trainer is running on now: one trainer at a time may update (or read) a model's parameters. */
    private static final Map<Module, Trainer> MODELS_IN_USE = new java.util.WeakHashMap<>();
    /** Process groups (their collectives) a trainer is running on now; guarded by {@link #MODELS_IN_USE}'s lock. */
    private static final Map<Object, Trainer> GROUPS_IN_USE = new java.util.WeakHashMap<>();

    private void checkNotClosed(String what) {
        if (closed) throw new IllegalStateException("cannot " + what + ": this Trainer is closed");
    }

    /** The forward pass alone, for {@link #predict}. */
    private CompiledStep compilePredict(Shape features) {
        CompileEvent ev = Flight.started() ? new CompileEvent() : null;
        if (ev != null) ev.begin();
        CompiledStep cs = new CompiledStep(kiln, model, null, null, null, new TensorType(DType.F32, features), null, false, null);
        if (ev != null && ev.shouldCommit()) {
            ev.training = false;
            ev.batchSize = features.dim(0);
            ev.graphNodes = cs.graphNodes;
            ev.graphInputs = cs.graphInputs;
            ev.backend = kiln.backend();
            ev.commit();
        }
        return cs;
    }

    private CompiledStep compile(Batch batch, boolean train) {
        TensorType x = new TensorType(DType.F32, batch.featureShape());
        TensorType y = new TensorType(batch.targetType(), batch.targetShape());
        CompileEvent ev = Flight.started() ? new CompileEvent() : null;
        if (ev != null) ev.begin();
        CompiledStep.Split split = train && (dist != null || accumulation > 1)
                ? new CompiledStep.Split(accumulation, Buckets.DEFAULT_FIRST_BYTES, Buckets.DEFAULT_BYTES, dist, buckets) : null;
        CompiledStep cs = new CompiledStep(kiln, model, loss, train ? optimizer : null, scaler, x, y, train, split);
        if (ev != null && ev.shouldCommit()) {
            ev.training = train;
            ev.batchSize = batch.size();
            ev.graphNodes = cs.graphNodes;
            ev.graphInputs = cs.graphInputs;
            ev.backend = kiln.backend();
            ev.commit();
        }
        return cs;
    }

    private void closeSteps() {
        trainSteps.values().forEach(CompiledStep::close);
        evalSteps.values().forEach(CompiledStep::close);
        predictSteps.values().forEach(CompiledStep::close);
        trainSteps.clear();
        evalSteps.clear();
        predictSteps.clear();
    }

    /**
     * Frees the compiled steps and optimizer state. From another thread while {@code fit} runs, the
     * loop stops before its next step and the memory is freed when it returns. Idempotent.
     */
    @Override public void close() {
        closed = true;
        if (runner.compareAndSet(null, CLOSING)) free();
    }

    /** Reached once, by whichever of close() and the last guarded call's end sees the trainer idle. */
    private void free() {
        if (freed) return;
        freed = true;
        closeSteps();
        buckets.close(dist != null && dist.stuck());
        optimizerState.values().forEach(bs -> { for (Buffer b : bs) b.close(); });
        optimizerState.clear();
        if (scaler != null) scaler.close();
    }

    public static final class Builder {
        private final Kiln kiln;
        private final Module model;
        private Loss loss = Loss.softmaxCrossEntropy();
        private boolean defaultLoss = true;
        private Optimizer optimizer;
        private int batchSize = 32;
        private long seed = 0;
        private double validationSplit;
        private int topK = 5;
        private boolean shuffle = true;
        private final List<Metric> metrics = new ArrayList<>();
        private LossScaling lossScaling;
        private final List<Callback> callbacks = new ArrayList<>();
        private int accumulation = 1;

        private Builder(Kiln kiln, Module model) {
            this.kiln = kiln;
            this.model = model;
        }

        /** The objective over (output, targets); default softmax cross-entropy, for one class label per example. */
        public Builder loss(Loss l) {
            this.loss = java.util.Objects.requireNonNull(l, "loss");
            this.defaultLoss = false;
            return this;
        }

        public Builder optimizer(Optimizer o) { this.optimizer = o; return this; }

        public Builder batchSize(int n) {
            if (n <= 0) throw new IllegalArgumentException("batch size must be positive, got " + n);
            this.batchSize = n;
            return this;
        }

        /** Seeds the per-epoch shuffling (and the hold-out of {@link #validationSplit}). */
        public Builder seed(long s) { this.seed = s; return this; }

        /**
         * Holds out this fraction of the training set (a seeded random subset, the same every run)
         * and evaluates it after each epoch, as Keras' {@code validation_split}. Used by
         * {@link Trainer#fit(Dataset, int)}; 0 (the default) holds nothing out.
         */
        public Builder validationSplit(double fraction) {
            if (!(fraction >= 0 && fraction < 1)) throw new IllegalArgumentException("validation split must be in [0, 1), got " + fraction);
            this.validationSplit = fraction;
            return this;
        }

        /** The k of the top-k accuracy {@link Trainer#evaluate} reports (default 5; 0 turns it off). */
        public Builder topK(int k) {
            if (k < 0) throw new IllegalArgumentException("top-k needs k >= 0, got " + k);
            this.topK = k;
            return this;
        }

        public Builder callback(Callback c) { this.callbacks.add(c); return this; }

        /**
         * Reshuffles the training set every epoch (default true, seeded by {@link #seed}); false
         * trains in index order, as a {@code DataLoader(shuffle=False)}: for data whose order
         * matters, or to compare runs batch by batch. Evaluation never shuffles.
         */
        public Builder shuffle(boolean shuffle) { this.shuffle = shuffle; return this; }

        /**
         * Metrics measured over every epoch's training batches and by {@link Trainer#evaluate}
         * (validation included, as {@code val_<name>}), as Keras' {@code compile(metrics=...)};
         * adds to those of earlier calls. The loss is always measured; accuracy and top-k too for
         * one class label per example. A checkpoint keeps the epoch's running sums, so a run
         * restored in mid-epoch reports the same epoch figures as the uninterrupted one.
         */
        public Builder metrics(Metric... ms) {
            List<Metric> all = new ArrayList<>(metrics);
            all.addAll(List.of(ms));
            checkedMetrics(all);
            metrics.clear();
            metrics.addAll(all);
            return this;
        }

        /**
         * Sums the gradients of {@code k} consecutive batches into one optimizer step, with their
         * mean as the gradient: {@code k} batches of {@code batchSize} train like one batch of
         * {@code k * batchSize} (exactly so for models without batch statistics). An epoch's last
         * step takes the batches left. With a process group the gradients are all-reduced only
         * after the k-th, as under PyTorch's {@code no_sync()}. Default 1.
         */
        public Builder gradientAccumulation(int k) {
            if (k < 1) throw new IllegalArgumentException("gradient accumulation needs k >= 1 batches per step, got " + k);
            this.accumulation = k;
            return this;
        }

        /**
         * Scales the loss dynamically with these settings, whatever the precision policy, as
         * Keras' {@code LossScaleOptimizer}. Without this call the trainer uses
         * {@link LossScaling#dynamic()} when the policy asks for loss scaling (fp16-mixed) and
         * nothing otherwise.
         */
        public Builder lossScaling(LossScaling s) {
            this.lossScaling = Objects.requireNonNull(s, "loss scaling settings; leave the call out for the policy's default");
            return this;
        }

        public Trainer build() {
            if (optimizer == null) throw new IllegalStateException("Trainer needs an optimizer, e.g. new Adam(1e-3)");
            return new Trainer(this);
        }
    }
}
