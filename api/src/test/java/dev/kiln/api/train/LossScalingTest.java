package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.internal.Internal;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.core.Shape;
import dev.kiln.spi.Buffer;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic loss scaling turned on explicitly on the Java plugin, which has no fp16: the scaling,
 * the overflow check, the skipped update and the scale's growth and backoff are all in the graph,
 * whatever precision it later runs in.
 */
class LossScalingTest {
    static final int BATCH = 16;
    @TempDir Path dir;

    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").seed(11).build()); }

    /** No dropout, so two runs that take different numbers of steps still draw the same random numbers. */
    static Module model() { return Sequential.of(new Linear(Blobs.FEATURES, 16), new ReLU(), new Linear(16, Blobs.CLASSES)); }

    static Trainer trainer(Kiln kiln, Module model, LossScaling scaling) {
        Trainer.Builder b = Trainer.builder(kiln, model).optimizer(new Adam(1e-2)).batchSize(BATCH).seed(3);
        if (scaling != null) b.lossScaling(scaling);
        return b.build();
    }

    /**
     * One batch whose first example has a feature of 1e36: its loss and unscaled gradients are
     * finite in float32, but times 2^16 the first layer's weight gradient overflows.
     */
    static Dataset overflowing() {
        InMemoryDataset d = Blobs.dataset(BATCH, 2);
        float[] x = new float[BATCH * Blobs.FEATURES];
        int[] y = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            d.features(i, x, i * Blobs.FEATURES);
            y[i] = d.label(i);
        }
        x[0] = 1e36f;
        return new InMemoryDataset(x, y, Shape.of(Blobs.FEATURES), Blobs.CLASSES);
    }

    static List<float[]> params(Trainer t) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : t.model().parameters()) out.add(p.value(t.kiln()).toFloatArray());
        return out;
    }

    static List<float[]> adamState(Trainer t) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : t.model().parameters()) {
            for (Buffer b : t.optimizerState.get(p)) {
                float[] host = new float[Math.toIntExact(p.shape().size())];
                Internal.access().download(t.kiln(), b, MemorySegment.ofArray(host));
                out.add(host);
            }
        }
        return out;
    }

    static void assertClose(List<float[]> want, List<float[]> got, double tol) {
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            for (int j = 0; j < want.get(i).length; j++) {
                float w = want.get(i)[j];
                assertEquals(w, got.get(i)[j], tol * Math.max(1, Math.abs(w)), "tensor " + i + " element " + j);
            }
        }
    }

    @Test void withoutOverflowScalingChangesNothingAndTheReportedLossIsUnscaled() {
        Dataset data = Blobs.dataset(64, 1);
        History plain, scaled;
        List<float[]> plainParams, scaledParams;
        try (Kiln kiln = open(); Trainer t = trainer(kiln, Blobs.model(), null)) {
            plain = t.fit(data, 3);
            plainParams = params(t);
            assertNull(t.lossScaling());
            assertEquals(1, t.lossScale());
        }
        try (Kiln kiln = open(); Trainer t = trainer(kiln, Blobs.model(), LossScaling.dynamic())) {
            scaled = t.fit(data, 3);
            scaledParams = params(t);
            assertEquals(65536, t.lossScale());
            assertEquals(0, t.skippedSteps());
        }
        // Multiplying and dividing by a power of two is exact, so only the order of roundings could differ.
        assertClose(plainParams, scaledParams, 1e-6);
        for (int e = 0; e < 3; e++) {
            double want = plain.epochs().get(e).loss();
            assertEquals(want, scaled.epochs().get(e).loss(), 1e-6 * want, "epoch " + (e + 1) + " loss");
            assertTrue(scaled.epochs().get(e).loss() < 10, "the reported loss must not be the scaled one");
        }
    }

    @Test void anOverflowSkipsTheStepHalvesTheScaleAndLeavesNoTrace() {
        Dataset normal = Blobs.dataset(BATCH, 1);
        List<float[]> expected;
        try (Kiln kiln = open(); Trainer t = trainer(kiln, model(), null)) {
            t.fit(normal, 2);
            expected = params(t);
        }
        try (Kiln kiln = open(); Trainer t = trainer(kiln, model(), LossScaling.dynamic())) {
            t.fit(normal, 1);
            List<float[]> p = params(t), s = adamState(t);
            History h = t.fit(overflowing(), 2);
            assertTrue(Double.isFinite(h.epochs().getFirst().loss()), "the unscaled loss of the bad batch is finite: " + h);
            for (int i = 0; i < p.size(); i++) assertArrayEquals(p.get(i), params(t).get(i), "parameter " + i);
            for (int i = 0; i < s.size(); i++) assertArrayEquals(s.get(i), adamState(t).get(i), "Adam state " + i);
            assertEquals(32768, t.lossScale());
            assertEquals(1, t.skippedSteps());
            assertEquals(2, t.steps());
            // Adam's step count skips the skipped step too, so this step is the plain run's second.
            t.fit(normal, 3);
            assertClose(expected, params(t), 1e-5);
            assertEquals(32768, t.lossScale());
        }
    }

    @Test void theScaleGrowsAfterTheGrowthIntervalOfFiniteSteps() {
        List<Double> scales = new ArrayList<>();
        Callback record = new Callback() {
            Trainer t;
            @Override public void onTrainBegin(Trainer trainer, int epochs) { t = trainer; }
            @Override public void onBatchEnd(int s, int steps, double l, double a, long n, double sec) { scales.add(t.lossScale()); }
        };
        try (Kiln kiln = open();
             Trainer t = Trainer.builder(kiln, model()).optimizer(new Adam(1e-2)).batchSize(BATCH).callback(record)
                     .lossScaling(LossScaling.dynamic().withGrowthInterval(3)).build()) {
            t.fit(Blobs.dataset(3 * BATCH, 1), 2);
        }
        assertEquals(List.of(65536.0, 65536.0, 131072.0, 131072.0, 131072.0, 262144.0), scales);
    }

    @Test void theStepCompilesOnceWhileTheScaleGrowsAndBacksOff() throws Exception {
        Path file = dir.resolve("kiln.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.kiln.CompileStep");
            r.start();
            try (Kiln kiln = open(); Trainer t = trainer(kiln, model(), LossScaling.dynamic().withGrowthInterval(2))) {
                t.fit(Blobs.dataset(2 * BATCH, 1), 1);
                t.fit(overflowing(), 2);
                assertEquals(65536, t.lossScale()); // doubled, then halved
                assertEquals(1, t.skippedSteps());
            }
            r.stop();
            r.dump(file);
        }
        long compiles = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.kiln.CompileStep") && e.getBoolean("training")).count();
        assertEquals(1, compiles);
    }

    @Test void theScalerStateIsCheckpointedAndRestored() {
        Path ckpt = dir.resolve("run.safetensors");
        LossScaling scaling = LossScaling.dynamic().withGrowthInterval(5);
        try (Kiln kiln = open(); Trainer t = trainer(kiln, model(), scaling)) {
            t.fit(overflowing(), 1);
            t.fit(Blobs.dataset(2 * BATCH, 1), 2);
            t.save(ckpt);
        }
        Map<String, String> meta = SafeTensorsFile.read(ckpt).metadata();
        assertEquals("32768.0", meta.get("scaler.scale"));
        assertEquals("2.0", meta.get("scaler.good_steps"));
        assertEquals("1.0", meta.get("scaler.skipped_steps"));
        try (Kiln kiln = open(); Trainer t = trainer(kiln, model(), scaling)) {
            t.restore(ckpt);
            assertEquals(32768, t.lossScale());
            assertEquals(1, t.skippedSteps());
            t.fit(Blobs.dataset(3 * BATCH, 1), 3); // two more finite steps reach the interval of five
            assertEquals(65536, t.lossScale());
        }
        Path plain = dir.resolve("plain.safetensors");
        try (Kiln kiln = open(); Trainer t = trainer(kiln, model(), null)) {
            t.save(plain);
            t.restore(ckpt); // a trainer without scaling ignores the scaler state, as PyTorch's disabled GradScaler
        }
        try (Kiln kiln = open(); Trainer t = trainer(kiln, model(), scaling)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> t.restore(plain));
            assertTrue(e.getMessage().contains("without loss scaling"), e.getMessage());
        }
    }

    @Test void badSettingsAreRejectedWithTheReason() {
        LossScaling d = LossScaling.dynamic();
        assertEquals(new LossScaling(65536, 2, 0.5, 2000), d);
        assertMessage("initial loss scale", () -> d.withInitialScale(0));
        assertMessage("initial loss scale", () -> d.withInitialScale(-1));
        assertMessage("initial loss scale", () -> d.withInitialScale(Double.NaN));
        assertMessage("finite in float32", () -> d.withInitialScale(1e39));
        assertMessage("growth interval", () -> d.withGrowthInterval(0));
        assertMessage("growth factor", () -> d.withFactors(1, 0.5));
        assertMessage("backoff factor", () -> d.withFactors(2, 1));
        assertMessage("backoff factor", () -> d.withFactors(2, 0));
        try (Kiln kiln = open()) {
            assertThrows(NullPointerException.class, () -> Trainer.builder(kiln, model()).lossScaling(null));
        }
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
