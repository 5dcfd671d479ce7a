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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Trains a classifier the way Keras' {@code fit} does. The whole step (forward, loss, backward,
 * optimizer) is traced and compiled once per batch shape and then reused every iteration.
 *
 * <pre>{@code
 * Trainer t = Trainer.builder(kiln, model).loss(Loss.softmaxCrossEntropy()).optimizer(new Adam(1e-3)).batchSize(32).build();
 * History h = t.fit(FashionMnist.train(), 5);
 * Evaluation e = t.evaluate(FashionMnist.test());
 * }</pre>
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
 * output; a batch with any other label is refused before it runs, naming the batch and the value.
 */
public final class Trainer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Trainer.class.getName());

    private final Kiln kiln;
    private final Module model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final int batchSize;
    private final long seed;
    private final double validationSplit;
    private final int topK;
    private final List<Callback> callbacks;
    private final Map<Integer, CompiledStep> trainSteps = new HashMap<>();
    private final Map<Integer, CompiledStep> evalSteps = new HashMap<>();
    final Map<Parameter, Buffer[]> optimizerState = new IdentityHashMap<>();
    /** Null without loss scaling. */
    final LossScaler scaler;
    // Where the run stands; all of it goes into a checkpoint so a restored trainer continues exactly.
    long step;
    int epochsDone;
    int batchesDone;
    double epochLossSum;
    long epochCorrect, epochSeen;
    private volatile boolean stopRequested;
    /** The thread running fit/evaluate/save/restore, {@link #CLOSING} once closed, else null. */
    private final AtomicReference<Object> runner = new AtomicReference<>();
    private static final Object CLOSING = new Object();
    /** Nesting of guarded calls on the runner thread (fit calls evaluate; callbacks may save). */
    private int depth;
    private volatile boolean closed;
    private boolean freed;

    private Trainer(Builder b) {
        this.kiln = b.kiln;
        this.model = b.model;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.validationSplit = b.validationSplit;
        this.topK = b.topK;
        this.callbacks = List.copyOf(b.callbacks);
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
        DataLoader loader = DataLoader.builder(train, batchSize).shuffle(true).seed(seed).build();
        List<EpochLogs> logs = new ArrayList<>();
        stopRequested = false;
        if (epochsDone >= epochs) {
            LOG.log(System.Logger.Level.WARNING, "fit: {0} epochs are already complete, nothing to train", epochsDone);
        }
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
            }
            // Batches are prepared on a background thread while the accelerator runs the step.
            try (Prefetcher prefetch = new Prefetcher(loader, epoch - 1, 2)) {
                for (Batch batch : (Iterable<Batch>) () -> prefetch) {
                    if (skip > 0) { // a restored run: these batches were trained before the checkpoint
                        skip--;
                        continue;
                    }
                    trainOn(batch, epoch);
                    double secs = (System.nanoTime() - start) / 1e9;
                    for (Callback c : callbacks) {
                        c.onBatchEnd(batchesDone, steps, epochLossSum / epochSeen, (double) epochCorrect / epochSeen, epochSeen, secs);
                    }
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            epochsDone = epoch;
            batchesDone = 0;
            double vl = Double.NaN, va = Double.NaN;
            if (validation != null) {
                Evaluation e = evaluate(validation);
                vl = e.loss();
                va = e.accuracy();
            }
            EpochLogs l = new EpochLogs(epoch, epochs, epochLossSum / epochSeen, (double) epochCorrect / epochSeen, secs, epochSeen / secs, vl, va);
            logs.add(l);
            for (Callback c : callbacks) c.onEpochEnd(l);
        }
        History h = new History(logs);
        callbacks.forEach(c -> c.onTrainEnd(h));
        return h;
    }

    private void trainOn(Batch batch, int epoch) {
        checkNotClosed("fit");
        CompiledStep cs = trainSteps.computeIfAbsent(batch.size(), n -> compile(batch, true));
        checkLabels(batch, cs, "training batch", batchesDone + 1, epoch);
        double lr = optimizer.learningRateAt(step);
        // The step takes the rate as a float32 scalar: a rate that is not a finite, non-negative float would train to NaN.
        if (!(lr >= 0) || !Float.isFinite((float) lr)) {
            throw new IllegalArgumentException("fit: the learning rate at step " + (step + 1) + " is " + lr + "; it must be finite, >= 0 and within float range");
        }
        StepEvent ev = new StepEvent();
        ev.begin();
        CompiledStep.Result r = cs.run(batch.features(), batch.labels(), lr, step + 1, optimizerState);
        step++;
        batchesDone++;
        if (ev.shouldCommit()) {
            ev.step = step;
            ev.epoch = epoch;
            ev.batchSize = batch.size();
            ev.loss = r.loss();
            ev.learningRate = lr;
            ev.commit();
        }
        epochLossSum += (double) r.loss() * batch.size();
        epochCorrect += Metrics.correct(r.output(), batch.labels(), batch.size());
        epochSeen += batch.size();
    }

    /**
     * Mean loss, accuracy, top-k accuracy ({@link Builder#topK}) and the confusion matrix over
     * {@code data}, with the model in evaluation mode.
     */
    public Evaluation evaluate(Dataset data) {
        begin("evaluate");
        try {
            return evaluateGuarded(data);
        } finally {
            end();
        }
    }

    private Evaluation evaluateGuarded(Dataset data) {
        EvaluateEvent ev = new EvaluateEvent();
        ev.begin();
        Evaluation e = evaluateAll(data);
        if (ev.shouldCommit()) {
            ev.samples = e.samples();
            ev.loss = e.loss();
            ev.accuracy = e.accuracy();
            ev.commit();
        }
        return e;
    }

    private Evaluation evaluateAll(Dataset data) {
        DataLoader loader = DataLoader.builder(data, batchSize).shuffle(false).build();
        double lossSum = 0;
        long correct = 0, topCorrect = 0;
        int seen = 0;
        ConfusionMatrix confusion = null;
        int classes = 0;
        int batchIndex = 0;
        for (Batch batch : loader) {
            checkNotClosed("evaluate");
            CompiledStep cs = evalSteps.computeIfAbsent(batch.size(), n -> compile(batch, false));
            checkLabels(batch, cs, "evaluation batch", ++batchIndex, 0);
            CompiledStep.Result r = cs.run(batch.features(), batch.labels(), 0, 0, optimizerState);
            lossSum += (double) r.loss() * batch.size();
            correct += Metrics.correct(r.output(), batch.labels(), batch.size());
            classes = r.output().length / batch.size();
            Metrics.requireOutputPerClass(classes, data);
            if (confusion == null) confusion = new ConfusionMatrix(Math.max(classes, data.numClasses()));
            Metrics.confusion(confusion, r.output(), batch.labels(), batch.size());
            topCorrect += Metrics.topKCorrect(r.output(), batch.labels(), batch.size(), topK);
            seen += batch.size();
        }
        boolean useTopK = topK > 0 && classes > topK;
        return new Evaluation(lossSum / seen, (double) correct / seen, seen, useTopK ? topK : 0,
                useTopK ? (double) topCorrect / seen : Double.NaN, confusion);
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
            TrainerCheckpoint.save(this, path);
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
            // Compiled steps may hold on to the buffers they were built with; recompiling is cheap next to a restore.
            closeSteps();
        } finally {
            end();
        }
    }

    /**
     * Refuses labels outside {@code [0, classes)}: the loss would silently leave them out (a
     * one-hot of an out-of-range label is all zeros) and the metrics would read another row.
     */
    private static void checkLabels(Batch batch, CompiledStep cs, String kind, int index, int epoch) {
        int classes = cs.classes();
        int[] labels = batch.labels();
        for (int i = 0, n = batch.size(); i < n; i++) {
            int y = labels[i];
            if (y < 0 || y >= classes) {
                // The message is built only here: the check runs every step.
                String where = kind + " " + index + (epoch > 0 ? " of epoch " + epoch : "");
                throw new IllegalArgumentException(where + ": label " + y + " of example " + i + " is outside [0, " + classes
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
        Trainer owner;
        synchronized (MODELS_IN_USE) {
            owner = MODELS_IN_USE.putIfAbsent(model, this);
        }
        if (owner != null && owner != this) {
            runner.set(null);
            if (closed && runner.compareAndSet(null, CLOSING)) free();
            throw new IllegalStateException("cannot " + what + ": the model is in use by another Trainer right now;"
                    + " two trainers updating one model at once would interleave their updates");
        }
        depth = 1;
    }

    private void end() {
        if (--depth > 0) return;
        synchronized (MODELS_IN_USE) {
            MODELS_IN_USE.remove(model, this);
        }
        runner.set(null);
        if (closed && runner.compareAndSet(null, CLOSING)) free();
    }

    /** Models a trainer is running on now: one trainer at a time may update (or read) a model's parameters. */
    private static final Map<Module, Trainer> MODELS_IN_USE = new java.util.WeakHashMap<>();

    private void checkNotClosed(String what) {
        if (closed) throw new IllegalStateException("cannot " + what + ": this Trainer is closed");
    }

    private CompiledStep compile(Batch batch, boolean train) {
        TensorType x = new TensorType(DType.F32, batch.featureShape());
        TensorType y = new TensorType(DType.I32, Shape.of(batch.size()));
        CompileEvent ev = new CompileEvent();
        ev.begin();
        CompiledStep cs = new CompiledStep(kiln, model, loss, train ? optimizer : null, scaler, x, y, train);
        if (ev.shouldCommit()) {
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
        trainSteps.clear();
        evalSteps.clear();
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
        optimizerState.values().forEach(bs -> { for (Buffer b : bs) b.close(); });
        optimizerState.clear();
        if (scaler != null) scaler.close();
    }

    public static final class Builder {
        private final Kiln kiln;
        private final Module model;
        private Loss loss = Loss.softmaxCrossEntropy();
        private Optimizer optimizer;
        private int batchSize = 32;
        private long seed = 0;
        private double validationSplit;
        private int topK = 5;
        private LossScaling lossScaling;
        private final List<Callback> callbacks = new ArrayList<>();

        private Builder(Kiln kiln, Module model) {
            this.kiln = kiln;
            this.model = model;
        }

        public Builder loss(Loss l) { this.loss = l; return this; }

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
