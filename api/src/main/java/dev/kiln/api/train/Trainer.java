package dev.kiln.api.train;

import dev.kiln.api.Kiln;
import dev.kiln.api.data.Batch;
import dev.kiln.api.data.DataLoader;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.loss.Loss;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.optim.Optimizer;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains a classifier the way Keras' {@code fit} does. The whole step (forward, loss, backward,
 * optimizer) is traced and compiled once per batch shape and then reused every iteration.
 *
 * <pre>{@code
 * Trainer t = Trainer.builder(kiln, model).loss(Loss.softmaxCrossEntropy()).optimizer(new Adam(1e-3)).batchSize(32).build();
 * History h = t.fit(FashionMnist.train(), 5);
 * Evaluation e = t.evaluate(FashionMnist.test());
 * }</pre>
 */
public final class Trainer implements AutoCloseable {
    private final Kiln kiln;
    private final Module model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final int batchSize;
    private final long seed;
    private final List<Callback> callbacks;
    private final Map<Integer, CompiledStep> trainSteps = new HashMap<>();
    private final Map<Integer, CompiledStep> evalSteps = new HashMap<>();
    private final Map<Parameter, Buffer[]> optimizerState = new IdentityHashMap<>();
    private long step;
    private volatile boolean stopRequested;

    private Trainer(Builder b) {
        this.kiln = b.kiln;
        this.model = b.model;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.callbacks = List.copyOf(b.callbacks);
    }

    public static Builder builder(Kiln kiln, Module model) { return new Builder(kiln, model); }

    /** Asks {@link #fit} to stop after the current epoch (for early-stopping callbacks). */
    public void stop() { stopRequested = true; }

    /** Optimizer steps taken so far. */
    public long steps() { return step; }

    public History fit(Dataset train, int epochs) { return fit(train, null, epochs); }

    public History fit(Dataset train, Dataset validation, int epochs) {
        if (epochs <= 0) throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        DataLoader loader = DataLoader.builder(train, batchSize).shuffle(true).seed(seed).build();
        List<EpochLogs> logs = new ArrayList<>();
        stopRequested = false;
        callbacks.forEach(c -> c.onTrainBegin(this, epochs));
        for (int epoch = 1; epoch <= epochs && !stopRequested; epoch++) {
            int steps = loader.batchesPerEpoch();
            for (Callback c : callbacks) c.onEpochBegin(epoch, epochs, steps);
            long start = System.nanoTime();
            double lossSum = 0;
            long correct = 0, seen = 0;
            int s = 0;
            for (Batch batch : loader.epoch(epoch - 1)) {
                CompiledStep cs = trainSteps.computeIfAbsent(batch.size(), n -> compile(batch, true));
                step++;
                CompiledStep.Result r = cs.run(batch.features(), batch.labels(), optimizer.learningRate(), step, optimizerState);
                lossSum += (double) r.loss() * batch.size();
                correct += Metrics.correct(r.output(), batch.labels(), batch.size());
                seen += batch.size();
                s++;
                double secs = (System.nanoTime() - start) / 1e9;
                for (Callback c : callbacks) c.onBatchEnd(s, steps, lossSum / seen, (double) correct / seen, seen, secs);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            double vl = Double.NaN, va = Double.NaN;
            if (validation != null) {
                Evaluation e = evaluate(validation);
                vl = e.loss();
                va = e.accuracy();
            }
            EpochLogs l = new EpochLogs(epoch, epochs, lossSum / seen, (double) correct / seen, secs, seen / secs, vl, va);
            logs.add(l);
            for (Callback c : callbacks) c.onEpochEnd(l);
        }
        History h = new History(logs);
        callbacks.forEach(c -> c.onTrainEnd(h));
        return h;
    }

    /** Mean loss and accuracy over {@code data}, with the model in evaluation mode. */
    public Evaluation evaluate(Dataset data) {
        DataLoader loader = DataLoader.builder(data, batchSize).shuffle(false).build();
        double lossSum = 0;
        long correct = 0;
        int seen = 0;
        for (Batch batch : loader) {
            CompiledStep cs = evalSteps.computeIfAbsent(batch.size(), n -> compile(batch, false));
            CompiledStep.Result r = cs.run(batch.features(), batch.labels(), 0, 0, optimizerState);
            lossSum += (double) r.loss() * batch.size();
            correct += Metrics.correct(r.output(), batch.labels(), batch.size());
            seen += batch.size();
        }
        return new Evaluation(lossSum / seen, (double) correct / seen, seen);
    }

    private CompiledStep compile(Batch batch, boolean train) {
        TensorType x = new TensorType(DType.F32, batch.featureShape());
        TensorType y = new TensorType(DType.I32, Shape.of(batch.size()));
        return new CompiledStep(kiln, model, loss, train ? optimizer : null, x, y, train);
    }

    @Override public void close() {
        trainSteps.values().forEach(CompiledStep::close);
        evalSteps.values().forEach(CompiledStep::close);
        optimizerState.values().forEach(bs -> { for (Buffer b : bs) b.close(); });
        optimizerState.clear();
    }

    public static final class Builder {
        private final Kiln kiln;
        private final Module model;
        private Loss loss = Loss.softmaxCrossEntropy();
        private Optimizer optimizer;
        private int batchSize = 32;
        private long seed = 0;
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

        /** Seeds the per-epoch shuffling. */
        public Builder seed(long s) { this.seed = s; return this; }

        public Builder callback(Callback c) { this.callbacks.add(c); return this; }

        public Trainer build() {
            if (optimizer == null) throw new IllegalStateException("Trainer needs an optimizer, e.g. new Adam(1e-3)");
            return new Trainer(this);
        }
    }
}
