package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.data.ArrayDataset;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.loss.Loss;
import dev.kiln.api.loss.Reduction;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The trainer on targets other than one class label: regression, multi-label, a label per position; metrics, predict, shuffle, per-batch logs. */
class SupervisedTrainerTest {
    private static Kiln javaref() { return Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    /** y = 2 x0 - 3 x1 + 0.5 x2 + 1 plus noise of standard deviation 0.05. */
    static ArrayDataset linear(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[n][3], y = new float[n][1];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 3; j++) x[i][j] = (float) r.nextDouble(-1, 1);
            y[i][0] = (float) (2 * x[i][0] - 3 * x[i][1] + 0.5 * x[i][2] + 1 + 0.05 * r.nextGaussian());
        }
        return ArrayDataset.of(x, y);
    }

    @Test void regressionLearnsAndReportsItsMetricsOnly() {
        try (Kiln kiln = javaref();
                Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(3, 1))).loss(Loss.mse()).optimizer(new Adam(0.05)).batchSize(16)
                        .metrics(Metric.meanAbsoluteError(), Metric.rootMeanSquaredError()).validationSplit(0.2).build()) {
            History h = t.fit(linear(400, 1), 30);
            EpochLogs last = h.last();
            assertTrue(Double.isNaN(last.accuracy()) && Double.isNaN(last.validationAccuracy()), "no accuracy for regression: " + last);
            assertEquals(List.of("mae", "rmse", "val_mae", "val_rmse"), List.copyOf(last.metrics().keySet()));
            assertTrue(last.metric("val_rmse") < 0.1, "validation RMSE, noise is 0.05: " + last.metrics());
            Evaluation e = t.evaluate(linear(200, 2));
            assertTrue(Double.isNaN(e.accuracy()));
            assertNull(e.confusion());
            assertEquals(0, e.topK());
            assertTrue(e.metric("rmse") < 0.1, e.toString());
            assertEquals(e.loss(), e.metric("rmse") * e.metric("rmse"), 1e-5, "MSE loss is RMSE squared over the whole set");
            var missing = assertThrows(IllegalArgumentException.class, () -> e.metric("accuracy"));
            assertTrue(missing.getMessage().contains("[mae, rmse]"), missing.getMessage());
            Evaluation only = t.evaluate(linear(50, 3), Metric.meanSquaredError());
            assertEquals(only.loss(), only.metric("mse"), 1e-5);
        }
    }

    @Test void callbacksMonitorAndLogMetrics(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path csv = dir.resolve("log.csv");
        var stop = new dev.kiln.api.train.callbacks.EarlyStopping(dev.kiln.api.train.callbacks.Monitor.min("val_rmse"), 0);
        try (Kiln kiln = javaref();
                Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(3, 1))).loss(Loss.mse()).optimizer(new Adam(0.05)).batchSize(16)
                        .metrics(Metric.rootMeanSquaredError()).validationSplit(0.25).callback(stop)
                        .callback(new dev.kiln.api.train.callbacks.CsvLogger(csv)).build()) {
            History h = t.fit(linear(80, 1), 3);
            assertEquals(stop.bestValue(), h.epochs().stream().mapToDouble(l -> l.metric("val_rmse")).min().orElseThrow(), 0);
            List<String> lines = java.nio.file.Files.readAllLines(csv);
            assertEquals("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_second,rmse,val_rmse", lines.get(0));
            assertTrue(lines.get(1).startsWith("1,") && lines.get(1).contains(",,"), "no accuracy for regression: " + lines.get(1));
        }
        try (Kiln kiln = javaref();
                Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(3, 1))).loss(Loss.mse()).optimizer(new Adam(0.05))
                        .callback(new dev.kiln.api.train.callbacks.EarlyStopping(dev.kiln.api.train.callbacks.Monitor.ACCURACY, 1)).build()) {
            var e = assertThrows(IllegalStateException.class, () -> t.fit(linear(40, 1), 1));
            assertTrue(e.getMessage().startsWith("monitoring accuracy: accuracy is measured only for one class label per example"), e.getMessage());
        }
    }

    private static Trainer regression(Kiln kiln, Callback... cbs) {
        Trainer.Builder b = Trainer.builder(kiln, Sequential.of(new Linear(3, 4), new ReLU(), new Linear(4, 1))).loss(Loss.mse())
                .optimizer(new Adam(0.02)).batchSize(16).seed(3).metrics(Metric.meanAbsoluteError(), Metric.rootMeanSquaredError());
        for (Callback c : cbs) b.callback(c);
        return b.build();
    }

    @Test void aRunRestoredInMidEpochLogsTheSameMetrics(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        ArrayDataset d = linear(96, 9); // 6 batches an epoch; the save falls in epoch 2
        History full;
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(3).build()); Trainer t = regression(kiln)) {
            full = t.fit(d, 2);
        }
        java.nio.file.Path ckpt = dir.resolve("run.safetensors");
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(3).build())) {
            Trainer[] holder = new Trainer[1];
            try (Trainer t = regression(kiln, new Callback() {
                @Override public void onTrainBatchEnd(BatchLogs l) { if (l.step() == 8) holder[0].save(ckpt); }
            })) {
                holder[0] = t;
                t.fit(d, 2);
            }
        }
        assertEquals(2, dev.kiln.api.checkpoint.SafeTensorsFile.read(ckpt).metadata().get("epoch_metric.mae").split(",").length);
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(3).build()); Trainer t = regression(kiln)) {
            t.restore(ckpt);
            History rest = t.fit(d, 2);
            assertEquals(full.last().metrics(), rest.last().metrics(), "the interrupted epoch's sums came back with the checkpoint");
        }
    }

    @Test void predictIsBatchedCompiledOnceAndLeavesTheRunAlone() {
        try (Kiln kiln = javaref()) {
            Sequential model = Sequential.of(new Linear(3, 8), new ReLU(), new Linear(8, 2));
            try (Trainer t = Trainer.builder(kiln, model).loss(Loss.mse()).optimizer(new Adam(1e-2)).batchSize(4).build()) {
                ArrayDataset d = linear(10, 4);
                Tensor p = t.predict(d);
                assertEquals(Shape.of(10, 2), p.shape());
                assertEquals(2, t.predictSteps.size(), "batches of 4 and the last of 2");
                float[] first = p.toFloatArray();
                Tensor again = t.predict(kiln.tensor(d.features(), 10, 3));
                assertArrayEquals(first, again.toFloatArray(), "the same examples as a tensor");
                assertEquals(2, t.predictSteps.size(), "the compiled passes are reused");
                assertEquals(0, t.steps());
                assertTrue(t.optimizerState.isEmpty(), "prediction touches no optimizer state");
                Tensor direct = model.forward(kiln.tensor(d.features(), 10, 3));
                float[] want = direct.toFloatArray();
                for (int i = 0; i < want.length; i++) assertEquals(want[i], first[i], 1e-5, "output " + i + " against the eager forward pass");
            }
        }
    }

    @Test void multiLabelTrainsWithBceAndBinaryAccuracy() {
        SplittableRandom r = new SplittableRandom(7);
        int n = 300;
        float[][] x = new float[n][4], y = new float[n][3];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 4; j++) x[i][j] = (float) r.nextDouble(-1, 1);
            // Three labels that may hold together: two of them linear in x, one their conjunction.
            y[i][0] = x[i][0] > 0 ? 1 : 0;
            y[i][1] = x[i][1] + x[i][2] > 0 ? 1 : 0;
            y[i][2] = y[i][0] * y[i][1];
        }
        ArrayDataset d = ArrayDataset.of(x, y);
        try (Kiln kiln = javaref();
                Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(4, 16), new ReLU(), new Linear(16, 3)))
                        .loss(Loss.bceWithLogits(Reduction.MEAN)).metrics(Metric.binaryAccuracy(0)).optimizer(new Adam(0.02)).batchSize(32).build()) {
            t.fit(d, 20);
            Evaluation e = t.evaluate(d);
            assertTrue(e.metric("binary_accuracy") > 0.9, e.toString());
        }
    }

    /** Example i: 4 positions of 2 features; the label of a position is 1 where its first feature is positive. */
    static class Tagging implements Dataset {
        private final float[] x;
        private final int n;

        Tagging(int n, long seed) {
            this.n = n;
            SplittableRandom r = new SplittableRandom(seed);
            x = new float[n * 8];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        }

        @Override public int size() { return n; }
        @Override public Shape exampleShape() { return Shape.of(4, 2); }
        @Override public int numClasses() { return 2; }
        @Override public void features(int index, float[] dst, int offset) { System.arraycopy(x, index * 8, dst, offset, 8); }
        @Override public Shape targetShape() { return Shape.of(4); }
        @Override public void target(int index, int[] dst, int offset) {
            for (int p = 0; p < 4; p++) dst[offset + p] = x[index * 8 + p * 2] > 0 ? 1 : 0;
        }
    }

    /** Cross-entropy over every position: logits [n, s, c] and labels [n, s] flattened to rows. */
    static final Loss PER_POSITION = (out, y) -> Loss.crossEntropy().compute(out.reshape(-1, out.shape().dim(-1)), y.reshape(-1));

    @Test void aLabelPerPositionTrainsAndItsAccuracyIsMeasuredPerPosition() {
        try (Kiln kiln = javaref();
                Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(2, 8), new ReLU(), new Linear(8, 2)))
                        .loss(PER_POSITION).metrics(Metric.accuracy()).optimizer(new Adam(0.02)).batchSize(16).build()) {
            History h = t.fit(new Tagging(200, 1), 10);
            assertTrue(Double.isNaN(h.last().accuracy()), "the built-in accuracy is for one label per example");
            Evaluation e = t.evaluate(new Tagging(100, 2));
            assertTrue(e.metric("accuracy") > 0.9, e.toString());
            assertNull(e.confusion());
        }
    }

    @Test void labelsOutsideTheClassesArePerPositionRefused() {
        Tagging bad = new Tagging(4, 3) {
            @Override public void target(int index, int[] dst, int offset) { super.target(index, dst, offset); if (index == 2) dst[offset + 1] = 7; }
        };
        try (Kiln kiln = javaref();
                Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(2, 2))).loss(PER_POSITION).optimizer(new Adam(0.01)).batchSize(4).shuffle(false).build()) {
            var e = assertThrows(IllegalArgumentException.class, () -> t.fit(bad, 1));
            assertEquals("training batch 1 of epoch 1: label 7 of example 2 (target element 1) is outside [0, 2), the model's 2 output classes", e.getMessage());
        }
    }

    @Test void classificationMetricsOnFloatTargetsAndRegressionMetricsOnLabelsFailClearly() {
        try (Kiln kiln = javaref();
                Trainer reg = Trainer.builder(kiln, Sequential.of(new Linear(3, 1))).loss(Loss.mse()).metrics(Metric.accuracy()).optimizer(new Adam(0.01)).build()) {
            var e = assertThrows(IllegalArgumentException.class, () -> reg.evaluate(linear(8, 1)));
            assertTrue(e.getMessage().startsWith("accuracy needs integer class labels [n]"), e.getMessage());
            assertTrue(e.getMessage().contains("got F32 targets [8, 1] and output [8, 1]; for float targets use Metric.meanAbsoluteError()"), e.getMessage());
        }
        try (Kiln kiln = javaref();
                Trainer cls = Trainer.builder(kiln, Blobs.model()).metrics(Metric.meanAbsoluteError()).optimizer(new Adam(0.01)).batchSize(8).build()) {
            var e = assertThrows(IllegalArgumentException.class, () -> cls.fit(Blobs.dataset(16, 1), 1));
            assertEquals("mae needs float targets of the output's shape [8, 4]; got I32 targets [8]; for class labels use Metric.accuracy() or Metric.topK(k)", e.getMessage());
        }
        var dup = assertThrows(IllegalArgumentException.class, () -> Trainer.builder(null, null).metrics(Metric.accuracy(), Metric.topK(1)).metrics(Metric.accuracy()));
        assertTrue(dup.getMessage().contains("two metrics are named 'accuracy'"), dup.getMessage());
    }

    @Test void theDefaultLossOnFloatTargetsSaysWhatItGot() {
        try (Kiln kiln = javaref(); Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(3, 1))).optimizer(new Adam(0.01)).build()) {
            var e = assertThrows(IllegalArgumentException.class, () -> t.fit(linear(8, 1), 1));
            assertTrue(e.getMessage().startsWith("fit: ArrayDataset[size=8, exampleShape=[3], targetShape=[1]] has F32 targets of shape [1],"
                    + " but the trainer has the default loss, softmax cross-entropy"), e.getMessage());
            assertTrue(e.getMessage().contains("Loss.mse()"), e.getMessage());
        }
        Loss wrong = Loss.crossEntropy();
        try (Kiln kiln = javaref(); Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(3, 2))).loss(wrong).optimizer(new Adam(0.01)).build()) {
            var e = assertThrows(IllegalArgumentException.class, () -> t.evaluate(linear(8, 1)));
            assertTrue(e.getMessage().startsWith("the loss refused the model's output f32[8, 2] and the targets f32[8, 1]: softmaxcrossentropy: labels must be [8]"),
                    e.getMessage());
        }
    }

    /** The one in docs/training.md, as written there. */
    @Test void aMetricOfOnesOwnIsReportedByName() {
        Metric mape = new Metric() {
            public String name() { return "mape"; }
            public int stateSize() { return 2; }
            public void update(float[] out, Shape outShape, dev.kiln.api.data.Batch b, double[] sums) {
                for (int i = 0; i < outShape.size(); i++) sums[0] += Math.abs((out[i] - b.targets()[i]) / b.targets()[i]);
                sums[1] += outShape.size();
            }
            public double compute(double[] sums) { return 100 * sums[0] / sums[1]; }
        };
        float[][] x = new float[20][1], y = new float[20][1];
        for (int i = 0; i < 20; i++) {
            x[i][0] = i;
            y[i][0] = 10 + i;
        }
        try (Kiln kiln = javaref(); Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(1, 1))).loss(Loss.mse()).optimizer(new Adam(0.01)).build()) {
            Evaluation e = t.evaluate(ArrayDataset.of(x, y), mape);
            float[] p = t.predict(ArrayDataset.of(x, y)).toFloatArray();
            double want = 0;
            for (int i = 0; i < 20; i++) want += Math.abs((p[i] - y[i][0]) / y[i][0]);
            assertEquals(100 * want / 20, e.metric("mape"), 1e-4);
        }
    }

    @Test void classificationKeepsItsFiguresAndTakesMetricsToo() {
        try (Kiln kiln = javaref();
                Trainer t = Trainer.builder(kiln, Blobs.model()).metrics(Metric.accuracy(), Metric.topK(2)).optimizer(new Adam(1e-2)).batchSize(16).build()) {
            History h = t.fit(Blobs.dataset(320, 1), 3);
            assertEquals(h.last().accuracy(), h.last().metric("accuracy"), 1e-12, "the built-in and the metric agree");
            Evaluation e = t.evaluate(Blobs.dataset(160, 2));
            assertEquals(e.accuracy(), e.metric("accuracy"), 1e-12);
            assertTrue(e.metric("top2_accuracy") >= e.accuracy());
            assertEquals(Blobs.CLASSES, e.confusion().classes());
        }
    }

    @Test void perBatchLogsCarryEachBatchsLossAndShuffleOffKeepsTheOrder() {
        List<BatchLogs> seen = new ArrayList<>();
        List<Float> firstTargets = new ArrayList<>();
        Callback c = new Callback() {
            @Override public void onTrainBatchEnd(BatchLogs l) {
                seen.add(l);
                firstTargets.add(l.batch().targets()[0]);
                assertEquals(Shape.of(l.size(), 1), l.outputShape());
            }
        };
        ArrayDataset d = linear(40, 5);
        try (Kiln kiln = javaref();
                Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(3, 1))).loss(Loss.mse()).optimizer(new Adam(0.01)).batchSize(16)
                        .shuffle(false).callback(c).build()) {
            History h = t.fit(d, 1);
            assertEquals(3, seen.size());
            double weighted = 0;
            for (BatchLogs l : seen) weighted += l.loss() * l.size();
            assertEquals(h.last().loss(), weighted / 40, 1e-6, "the epoch loss is the batches' losses weighted by size");
            assertEquals(seen.getLast().meanLoss(), h.last().loss(), 1e-9);
            assertEquals(List.of(d.targets()[0], d.targets()[16], d.targets()[32]), firstTargets, "index order without shuffling");
            assertEquals(List.of(1, 2, 3), seen.stream().map(BatchLogs::batchIndex).toList());
            assertEquals(3, seen.getLast().step());
        }
    }
}
