package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.SGD;
import dev.kiln.api.train.callbacks.CsvLogger;
import dev.kiln.api.train.callbacks.EarlyStopping;
import dev.kiln.api.train.callbacks.ModelCheckpoint;
import dev.kiln.api.train.callbacks.Monitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingConveniencesTest {
    @TempDir Path dir;
    final Dataset data = Blobs.dataset(120, 2);

    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").seed(5).build()); }

    @Test void validationSplitCallbacksAndCsv() throws Exception {
        Path best = dir.resolve("best.safetensors"), csv = dir.resolve("log.csv");
        ModelCheckpoint mc = ModelCheckpoint.best(best, Monitor.VAL_LOSS);
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new Adam(2e-2)).batchSize(16)
                .validationSplit(0.25).callback(mc).callback(new CsvLogger(csv)).build()) {
            History h = t.fit(data, 4);
            assertEquals(4, h.epochs().size());
            assertTrue(h.last().hasValidation());
            assertEquals(6, t.steps() / 4, "90 training examples in batches of 16: 6 steps per epoch");
            assertTrue(h.last().validationAccuracy() > 0.6, h.last().toString());
            assertTrue(mc.saves() >= 1);
            assertEquals("kiln.trainer", SafeTensorsFile.read(best).metadata().get("format"));
        }
        List<String> lines = Files.readAllLines(csv);
        assertEquals("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_second", lines.get(0));
        assertEquals(5, lines.size(), lines.toString());
        assertTrue(lines.get(4).startsWith("4,"), lines.get(4));
        assertEquals(8, lines.get(1).split(",", -1).length);
    }

    @Test void earlyStoppingStopsAndRestoresTheBestWeights() {
        // A learning rate far too high makes the loss blow up after the first epochs, so patience runs out.
        EarlyStopping es = new EarlyStopping(Monitor.LOSS, 1, 0, true);
        float[][] bestWeights = new float[1][];
        Callback spy = new Callback() {
            Trainer t;
            @Override public void onTrainBegin(Trainer trainer, int epochs) { t = trainer; }
            @Override public void onEpochEnd(EpochLogs logs) {
                if (logs.epoch() == es.bestEpoch()) bestWeights[0] = t.model().namedParameters().get("3.weight").value(t.kiln()).toFloatArray();
            }
        };
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new SGD(0.5, 0.99)).batchSize(16)
                .callback(es).callback(spy).build()) {
            History h = t.fit(data, 30);
            assertTrue(es.stoppedEpoch() > 0 && h.epochs().size() < 30, "stopped after epoch " + es.stoppedEpoch());
            assertEquals(es.stoppedEpoch(), h.last().epoch());
            assertEquals(es.bestEpoch() + 2, es.stoppedEpoch(), "patience 1: stops on the second epoch without improvement");
            assertArrayEquals(bestWeights[0], t.model().namedParameters().get("3.weight").value(kiln).toFloatArray(), "best weights restored");
        }
    }

    @Test void epochsCountTheWholeRunSoASecondFitContinuesIt() {
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new Adam(1e-2)).batchSize(60)
                .callback(new EarlyStopping(Monitor.LOSS, 5)).build()) {
            assertEquals(2, t.fit(data, 2).epochs().size());
            assertTrue(t.fit(data, 2).epochs().isEmpty(), "two epochs are already done");
            History more = t.fit(data, 3);
            assertEquals(1, more.epochs().size());
            assertEquals(3, more.last().epoch());
            assertEquals(6, t.steps());
        }
    }

    @Test void reduceLrOnPlateauLowersTheRateWithoutRecompiling() {
        // A rate far too high stalls the loss, so the plateau rule must fire.
        var plateau = new dev.kiln.api.train.callbacks.ReduceLrOnPlateau(Monitor.LOSS, 0.5, 0, 1e-3);
        SGD sgd = new SGD(0.5, 0.99);
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(sgd).batchSize(30).callback(plateau).build()) {
            t.fit(data, 8);
        }
        assertTrue(plateau.reductions() >= 1, "no reduction");
        assertEquals(0.5 * Math.pow(0.5, plateau.reductions()), sgd.learningRate(), 1e-12);
        var scheduled = new Adam(1e-2).schedule(dev.kiln.api.optim.LrSchedule.constant(1e-2));
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(scheduled).callback(plateau).build()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(data, 1));
            assertTrue(e.getMessage().contains("schedule"), e.getMessage());
        }
    }

    @Test void monitoringValidationWithoutValidationDataSaysWhatToDo() {
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new Adam(1e-2)).batchSize(32)
                .callback(new EarlyStopping(Monitor.VAL_ACCURACY, 2)).build()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(data, 2));
            assertTrue(e.getMessage().contains("validationSplit"), e.getMessage());
        }
    }

    @Test void evaluateReportsTopKAndAConfusionMatrix() {
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new Adam(2e-2)).batchSize(32).topK(2).build()) {
            t.fit(data, 3);
            Evaluation e = t.evaluate(data);
            ConfusionMatrix m = e.confusion();
            assertEquals(120, m.total());
            assertEquals(e.accuracy(), m.accuracy(), 1e-12, "the diagonal is the accuracy");
            assertEquals(2, e.topK());
            assertTrue(e.topKAccuracy() >= e.accuracy(), e.toString());
            long row0 = 0;
            for (int j = 0; j < 4; j++) row0 += m.count(0, j);
            assertEquals(30, row0, "every fourth example is class 0");
            assertTrue(m.toString().contains("recall"));
        }
    }

    @Test void theProgressBarShowsEpochStepAndTheScheduledRate() {
        var bytes = new java.io.ByteArrayOutputStream();
        var out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        var opt = new Adam(1e-2).schedule(dev.kiln.api.optim.LrSchedule.constant(0.0125));
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(opt).batchSize(40)
                .validationSplit(0.25).callback(new ProgressBar(out, true)).build()) {
            t.fit(data, 1);
        }
        String s = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(s.contains("epoch 1/1     3/3"), s);
        assertTrue(s.contains("lr 1.25e-02"), s);
        assertTrue(s.contains("val_loss") && s.contains("samples/s") && s.contains("ETA"), s);
    }

    @Test void metricsOnHandMadeLogits() {
        float[] logits = {0.1f, 0.7f, 0.2f, /* */ 0.5f, 0.5f, 0.0f, /* */ 0.3f, 0.2f, 0.1f};
        int[] labels = {2, 1, 0};
        assertEquals(1, Metrics.correct(logits, labels, 3));     // row 1's tie goes to class 0, as argmax picks the first
        assertEquals(3, Metrics.topKCorrect(logits, labels, 3, 2));
        assertEquals(1, Metrics.topKCorrect(logits, labels, 3, 1));
        ConfusionMatrix m = new ConfusionMatrix(3);
        Metrics.confusion(m, logits, labels, 3);
        assertEquals(1, m.count(2, 1));
        assertEquals(1, m.count(1, 0));
        assertEquals(1, m.count(0, 0));
        assertEquals(0.5, m.precision(0), 1e-12);
    }

    @Test void clippingInsideTheCompiledStepMatchesAFloat64HandComputation() {
        // One full-batch SGD step: the gradients come from the eager tape, the clip and update in float64.
        Dataset one = Blobs.dataset(16, 3);
        double lr = 0.5, maxNorm = 0.05;
        try (Kiln kiln = open()) {
            Sequential model = Sequential.of(new dev.kiln.api.nn.Linear(Blobs.FEATURES, Blobs.CLASSES));
            var w = model.namedParameters().get("0.weight");
            var b = model.namedParameters().get("0.bias");
            float[] w0 = w.value(kiln).toFloatArray(), b0 = b.value(kiln).toFloatArray();
            float[] x = new float[16 * Blobs.FEATURES];
            int[] y = new int[16];
            for (int i = 0; i < 16; i++) {
                one.features(i, x, i * Blobs.FEATURES);
                y[i] = one.label(i);
            }
            float[] gw, gb;
            try (var tape = kiln.tape()) {
                var loss = model.forward(kiln.tensor(x, 16, Blobs.FEATURES)).softmaxCrossEntropy(kiln.tensor(y, 16));
                var g = tape.gradient(loss, List.of(w.value(kiln), b.value(kiln)));
                gw = g.get(0).toFloatArray();
                gb = g.get(1).toFloatArray();
            }
            double sq = 0;
            for (float v : gw) sq += (double) v * v;
            for (float v : gb) sq += (double) v * v;
            double norm = Math.sqrt(sq), scale = Math.min(1, maxNorm / (norm + 1e-6));
            assertTrue(scale < 0.5, "the gradient must be large enough to clip: norm " + norm);
            SGD sgd = new SGD(lr);
            sgd.clipGradNorm(maxNorm);
            try (Trainer t = Trainer.builder(kiln, model).optimizer(sgd).batchSize(16).build()) {
                t.fit(one, 1);
            }
            float[] w1 = w.value(kiln).toFloatArray(), b1 = b.value(kiln).toFloatArray();
            for (int i = 0; i < w0.length; i++) {
                double want = w0[i] - lr * scale * gw[i];
                assertEquals(want, w1[i], 1e-5 * Math.max(1, Math.abs(want)), "weight " + i);
            }
            for (int i = 0; i < b0.length; i++) assertEquals(b0[i] - lr * scale * gb[i], b1[i], 1e-5, "bias " + i);
            double moved = 0;
            for (int i = 0; i < w0.length; i++) moved = Math.max(moved, Math.abs(w1[i] - w0[i]));
            assertTrue(moved > 1e-3, "the step should move the weights well beyond the tolerance: " + moved);
        }
    }

    @Test void bestWeightsLoadIntoAFreshModel() {
        Path f = dir.resolve("w.safetensors");
        try (Kiln kiln = open()) {
            Sequential a = Blobs.model(), b = Blobs.model();
            ModelWeights.save(a, kiln, f);
            ModelWeights.load(b, kiln, f);
            assertArrayEquals(a.namedParameters().get("0.weight").value(kiln).toFloatArray(), b.namedParameters().get("0.weight").value(kiln).toFloatArray());
        }
    }
}
