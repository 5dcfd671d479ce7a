package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.core.Shape;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

/** A trainer is one loop, refuses to run closed, checks labels, and hands every Throwable of user code to fit's caller. */
class TrainerSafetyTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").seed(5).build()); }

    static Trainer trainer(Kiln kiln) {
        return Trainer.builder(kiln, Sequential.of(new Linear(Blobs.FEATURES, 8), new ReLU(), new Linear(8, Blobs.CLASSES)))
                .optimizer(new Adam(1e-2)).batchSize(16).build();
    }

    /** Blobs whose features and labels pass through user hooks, as a custom Dataset's would. */
    static Dataset hooked(Runnable onFeatures, IntUnaryOperator label) {
        InMemoryDataset base = Blobs.dataset(64, 1);
        return new Dataset() {
            @Override public int size() { return base.size(); }
            @Override public Shape exampleShape() { return base.exampleShape(); }
            @Override public int numClasses() { return base.numClasses(); }
            @Override public void features(int index, float[] dst, int offset) {
                onFeatures.run();
                base.features(index, dst, offset);
            }
            @Override public int label(int index) { return label.applyAsInt(base.label(index)); }
        };
    }

    /** Blobs whose first example is read only once {@code release} opens, after counting down {@code inFit}: a fit held mid-run. */
    static Dataset heldOpen(CountDownLatch inFit, CountDownLatch release) {
        return hooked(() -> {
            inFit.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, y -> y);
    }

    @Test void aSecondLoopOnARunningTrainerFailsFast() throws Exception {
        try (Kiln kiln = open(); Trainer t = trainer(kiln)) {
            CountDownLatch inFit = new CountDownLatch(1), release = new CountDownLatch(1);
            Dataset slow = heldOpen(inFit, release);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread first = Thread.ofPlatform().name("first-fit").start(() -> {
                try {
                    t.fit(slow, 1);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            assertTrue(inFit.await(30, TimeUnit.SECONDS));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(Blobs.dataset(64, 2), 1));
            assertTrue(e.getMessage().contains("already running on thread 'first-fit'"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> t.evaluate(Blobs.dataset(64, 2)));
            release.countDown();
            first.join();
            assertEquals(null, failure.get());
            assertEquals(4, t.steps(), "the first loop ran undisturbed");
            t.evaluate(Blobs.dataset(32, 3)); // free again once it returned
        }
    }

    @Test void twoTrainersCannotRunOnOneModelAtOnce() throws Exception {
        try (Kiln kiln = open()) {
            var model = Sequential.of(new Linear(Blobs.FEATURES, Blobs.CLASSES));
            CountDownLatch inFit = new CountDownLatch(1), release = new CountDownLatch(1);
            Dataset slow = heldOpen(inFit, release);
            try (Trainer a = Trainer.builder(kiln, model).optimizer(new Adam(1e-2)).batchSize(16).build();
                 Trainer b = Trainer.builder(kiln, model).optimizer(new Adam(1e-2)).batchSize(16).build()) {
                Thread first = Thread.ofPlatform().start(() -> a.fit(slow, 1));
                assertTrue(inFit.await(30, TimeUnit.SECONDS));
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.fit(Blobs.dataset(64, 2), 1));
                assertTrue(e.getMessage().contains("model is in use by another Trainer"), e.getMessage());
                release.countDown();
                first.join();
                b.fit(Blobs.dataset(64, 2), 1); // free once the first returned
                assertEquals(4, b.steps());
            }
        }
    }

    @Test void aClosedTrainerRefusesToRun() {
        try (Kiln kiln = open()) {
            Trainer t = trainer(kiln);
            t.fit(Blobs.dataset(64, 1), 1);
            t.close();
            t.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(Blobs.dataset(64, 1), 2));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> t.evaluate(Blobs.dataset(64, 1)));
            assertTrue(t.optimizerState.isEmpty(), "the optimizer state was freed");
        }
    }

    @Test void closingDuringFitStopsBeforeTheNextStep() {
        try (Kiln kiln = open()) {
            Trainer[] self = new Trainer[1];
            Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(Blobs.FEATURES, Blobs.CLASSES))).optimizer(new Adam(1e-2)).batchSize(16)
                    .callback(new Callback() {
                        @Override public void onBatchEnd(int step, int steps, double l, double a, long n, double s) {
                            if (step == 2) self[0].close();
                        }
                    }).build();
            self[0] = t;
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(Blobs.dataset(64, 1), 3));
            assertTrue(e.getMessage().contains("Trainer is closed"), e.getMessage());
            assertEquals(2, t.steps());
            assertTrue(t.optimizerState.isEmpty(), "freed when fit returned");
        }
    }

    @Test void closingTheKilnInsideFitEndsItWithAClearException() {
        Kiln kiln = open();
        Trainer[] self = new Trainer[1];
        Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(Blobs.FEATURES, Blobs.CLASSES))).optimizer(new Adam(1e-2)).batchSize(16)
                .callback(new Callback() {
                    @Override public void onBatchEnd(int step, int steps, double l, double a, long n, double s) {
                        if (step == 1) self[0].kiln().close();
                    }
                }).build();
        self[0] = t;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(Blobs.dataset(64, 1), 2));
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        t.close();
        assertThrows(IllegalStateException.class, () -> kiln.tensor(new float[] {1}, 1));
    }

    @Test void anErrorFromTheDatasetReachesFitInsteadOfHanging() {
        try (Kiln kiln = open(); Trainer t = trainer(kiln)) {
            int[] calls = {0};
            Dataset broken = hooked(() -> {
                if (++calls[0] == 40) throw new AssertionError("dataset bug");
            }, y -> y);
            AssertionError e = assertTimeoutPreemptively(LIMIT, () -> assertThrows(AssertionError.class, () -> t.fit(broken, 1)));
            assertEquals("dataset bug", e.getMessage());
            assertTrue(e.getSuppressed().length > 0 && e.getSuppressed()[0].getMessage().contains("prefetch thread"),
                    "says where it was thrown");
            // The trainer is usable again afterwards.
            t.fit(Blobs.dataset(64, 1), 1);
        }
    }

    @Test void anExceptionFromTheDatasetReachesFit() {
        try (Kiln kiln = open(); Trainer t = trainer(kiln)) {
            Dataset broken = hooked(() -> { throw new UnsupportedOperationException("no disk"); }, y -> y);
            IllegalStateException e = assertTimeoutPreemptively(LIMIT, () -> assertThrows(IllegalStateException.class, () -> t.fit(broken, 1)));
            assertTrue(e.getCause() instanceof UnsupportedOperationException, String.valueOf(e.getCause()));
            assertTrue(e.getMessage().contains("batch 1"), e.getMessage());
        }
    }

    @Test void aThrowableFromACallbackReachesFit() {
        StackOverflowError boom = new StackOverflowError("callback");
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(Blobs.FEATURES, Blobs.CLASSES)))
                .optimizer(new Adam(1e-2)).batchSize(16)
                .callback(new Callback() {
                    @Override public void onBatchEnd(int step, int steps, double l, double a, long n, double s) { throw boom; }
                }).build()) {
            assertSame(boom, assertTimeoutPreemptively(LIMIT, () -> assertThrows(StackOverflowError.class, () -> t.fit(Blobs.dataset(64, 1), 1))));
        }
    }

    @Test void aLearningRateOutsideFloatRangeIsRefusedBeforeTheStep() {
        try (Kiln kiln = open(); Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(Blobs.FEATURES, Blobs.CLASSES)))
                .optimizer(new Adam(1e300)).batchSize(16).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.fit(Blobs.dataset(64, 1), 1));
            assertTrue(e.getMessage().contains("learning rate at step 1 is 1.0E300"), e.getMessage());
            assertEquals(0, t.steps());
        }
    }

    @Test void aRestoredPositionPastTheDatasetsBatchesIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        java.nio.file.Path ckpt = dir.resolve("mid.safetensors");
        try (Kiln kiln = open()) {
            Trainer[] self = new Trainer[1];
            try (Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(Blobs.FEATURES, Blobs.CLASSES))).optimizer(new Adam(1e-2)).batchSize(16)
                    .callback(new Callback() {
                        @Override public void onBatchEnd(int step, int steps, double l, double a, long n, double s) {
                            if (step == 10) self[0].save(ckpt);
                        }
                    }).build()) {
                self[0] = t;
                t.fit(Blobs.dataset(256, 1), 1);
            }
            try (Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(Blobs.FEATURES, Blobs.CLASSES))).optimizer(new Adam(1e-2)).batchSize(16).build()) {
                t.restore(ckpt);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.fit(Blobs.dataset(64, 1), 1));
                assertTrue(e.getMessage().contains("stopped after batch 10 of epoch 1") && e.getMessage().contains("only 4 batches"), e.getMessage());
                assertEquals(10, t.steps(), "nothing trained");
            }
        }
    }

    @Test void labelsOutsideTheModelsClassesAreRefusedInTrainingAndEvaluation() {
        try (Kiln kiln = open(); Trainer t = trainer(kiln)) {
            // Every batch holds a label 7 where the data had 3: the 4-class model cannot output it.
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> t.fit(hooked(() -> { }, y -> y == 3 ? 7 : y), 1));
            assertTrue(e.getMessage().contains("label 7") && e.getMessage().contains("training batch 1 of epoch 1")
                    && e.getMessage().contains("[0, 4)"), e.getMessage());
            assertEquals(0, t.steps(), "nothing trained on the bad batch");
            e = assertThrows(IllegalArgumentException.class, () -> t.evaluate(hooked(() -> { }, y -> y == 1 ? -1 : y)));
            assertTrue(e.getMessage().contains("label -1") && e.getMessage().contains("evaluation batch 1"), e.getMessage());
            t.fit(Blobs.dataset(64, 1), 1);
            assertEquals(4, t.steps());
        }
    }
}
