package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.LrSchedule;
import dev.kiln.api.optim.Optimizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save and restore inside one JVM on the Java plugin (the kill-the-JVM version runs on oneDNN in
 * the examples module): dropout, AdamW, a warm-up + cosine schedule and clipping all carry state
 * that must come back for the resumed run to match bit for bit.
 */
class TrainerResumeTest {
    static final int EPOCHS = 3, SAVE_AT = 8; // 6 steps per epoch: the save falls mid-epoch 2
    @TempDir Path dir;
    final Dataset data = Blobs.dataset(96, 1);

    static Optimizer optimizer() {
        return Adam.adamW(1e-2, 0.01).schedule(LrSchedule.linearWarmup(3, LrSchedule.cosine(2e-2, 15, 1e-3))).clipGradNorm(1.0);
    }

    static Trainer trainer(Kiln kiln, Module model, Callback... cbs) {
        Trainer.Builder b = Trainer.builder(kiln, model).optimizer(optimizer()).batchSize(16).seed(7);
        for (Callback c : cbs) b.callback(c);
        return b.build();
    }

    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").seed(3).build()); }

    static Map<String, float[]> params(Module m, Kiln k) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> out.put(n, p.value(k).toFloatArray()));
        return out;
    }

    /** Saves at a given global step from inside the loop, as a crash-safe job would. */
    record SaveAt(Trainer[] t, long step, Path path) implements Callback {
        @Override public void onBatchEnd(int s, int steps, double l, double a, long n, double sec) {
            if (t[0].steps() == step) t[0].save(path);
        }
    }

    @Test void aRestoredRunFinishesExactlyAsTheUninterruptedOne() {
        Map<String, float[]> expected;
        long expectedSteps;
        History full;
        try (Kiln kiln = open(); Trainer t = trainer(kiln, Blobs.model())) {
            full = t.fit(data, EPOCHS);
            expected = params(t.model(), kiln);
            expectedSteps = t.steps();
        }
        Path ckpt = dir.resolve("run.safetensors");
        try (Kiln kiln = open()) {
            Trainer[] holder = new Trainer[1];
            try (Trainer t = trainer(kiln, Blobs.model(), new SaveAt(holder, SAVE_AT, ckpt))) {
                holder[0] = t;
                t.fit(data, 2); // runs past the save; the rest of this run is thrown away
            }
        }
        SafeTensorsFile f = SafeTensorsFile.read(ckpt);
        assertEquals("8", f.metadata().get("step"));
        assertEquals("1", f.metadata().get("epochs_completed"));
        assertEquals("2", f.metadata().get("batches_in_epoch"));
        assertTrue(f.tensors().containsKey("optimizer.3.weight.exp_avg_sq"), f.tensors().keySet().toString());

        try (Kiln kiln = open(); Trainer t = trainer(kiln, Blobs.model())) {
            kiln.restoreRngState(new dev.kiln.api.RngState(123, 456)); // whatever happened before, restore puts it back
            t.restore(ckpt);
            assertEquals(SAVE_AT, t.steps());
            History rest = t.fit(data, EPOCHS);
            assertEquals(expectedSteps, t.steps());
            assertEquals(2, rest.epochs().size(), "epochs 2 and 3");
            Map<String, float[]> got = params(t.model(), kiln);
            expected.forEach((n, v) -> assertArrayEquals(v, got.get(n), "parameter " + n + " differs after resuming"));
            // The running means of the interrupted epoch were saved too, so even the logs agree.
            assertEquals(full.epochs().get(1).loss(), rest.epochs().get(0).loss(), 0.0);
            assertEquals(full.last().accuracy(), rest.last().accuracy(), 0.0);
        }
    }

    @Test void aBadCheckpointIsRefusedAndChangesNothing() throws Exception {
        Path good = dir.resolve("good.safetensors");
        try (Kiln kiln = open(); Trainer t = trainer(kiln, Blobs.model())) {
            t.fit(data, 1);
            t.save(good);
            byte[] bytes = Files.readAllBytes(good);
            Map<String, float[]> before = params(t.model(), kiln);

            Path cut = dir.resolve("cut.safetensors");
            Files.write(cut, Arrays.copyOf(bytes, bytes.length - 10));
            CheckpointException e = assertThrows(CheckpointException.class, () -> t.restore(cut));
            assertTrue(e.getMessage().startsWith(cut.toString()) && e.getMessage().contains("cut short"), e.getMessage());

            Path corrupt = dir.resolve("corrupt.safetensors");
            byte[] c = bytes.clone();
            c[8] = 'X'; // the header's opening brace
            Files.write(corrupt, c);
            e = assertThrows(CheckpointException.class, () -> t.restore(corrupt));
            assertTrue(e.getMessage().startsWith(corrupt.toString()) && e.getMessage().contains("corrupt header"), e.getMessage());

            Path wrongLen = dir.resolve("len.safetensors");
            byte[] w = bytes.clone();
            ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putLong(0, bytes.length);
            Files.write(wrongLen, w);
            e = assertThrows(CheckpointException.class, () -> t.restore(wrongLen));
            assertTrue(e.getMessage().contains("cut short"), e.getMessage());

            Map<String, float[]> after = params(t.model(), kiln);
            before.forEach((n, v) -> assertArrayEquals(v, after.get(n), n));
            assertEquals(6, t.steps());
            assertArrayEquals(bytes, Files.readAllBytes(good), "the previous checkpoint is untouched");
            t.restore(good); // and still loads
        }
        try (Kiln kiln = open(); Trainer other = Trainer.builder(kiln, Sequential.of(new dev.kiln.api.nn.Linear(10, 4)))
                .optimizer(optimizer()).seed(7).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> other.restore(good));
            assertTrue(e.getMessage().contains("does not fit the model"), e.getMessage());
        }
    }

    @Test void aFreshCheckpointAndAMismatchedOptimizer() {
        Path f = dir.resolve("fresh.safetensors");
        Map<String, float[]> initial;
        try (Kiln kiln = open(); Trainer t = trainer(kiln, Blobs.model())) {
            t.save(f); // before any step: no optimizer tensors yet
            initial = params(t.model(), kiln);
        }
        assertTrue(SafeTensorsFile.read(f).tensors().keySet().stream().noneMatch(k -> k.startsWith("optimizer.")));
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(99).build()); Trainer t = trainer(kiln, Blobs.model())) {
            t.restore(f);
            assertEquals(0, t.steps());
            Map<String, float[]> got = params(t.model(), kiln);
            initial.forEach((n, v) -> assertArrayEquals(v, got.get(n), n));
        }
        try (Kiln kiln = open(); Trainer sgd = Trainer.builder(kiln, Blobs.model()).optimizer(new dev.kiln.api.optim.SGD(0.1, 0.9)).seed(7).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> sgd.restore(f));
            assertTrue(e.getMessage().contains("exp_avg,exp_avg_sq") && e.getMessage().contains("momentum_buffer"), e.getMessage());
        }
        try (Kiln kiln = open(); Trainer other = Trainer.builder(kiln, Blobs.model()).optimizer(optimizer()).seed(8).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> other.restore(f));
            assertTrue(e.getMessage().contains(".seed(7)"), e.getMessage());
        }
    }

    @Test void savingTwiceReplacesTheFileWithoutLitter() throws Exception {
        Path f = dir.resolve("c.safetensors");
        try (Kiln kiln = open(); Trainer t = trainer(kiln, Blobs.model())) {
            t.fit(data, 1);
            t.save(f);
            t.fit(data, 2);
            t.save(f);
        }
        assertEquals("12", SafeTensorsFile.read(f).metadata().get("step"));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }
}
