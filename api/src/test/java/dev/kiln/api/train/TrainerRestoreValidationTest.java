package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.RngState;
import dev.kiln.api.checkpoint.CheckpointEdits;
import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.optim.Adam;
import dev.kiln.core.Shape;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every field of a training checkpoint is checked before the trainer changes: a bad one is a
 * {@link CheckpointException} naming the file and the field, and the model, optimizer state,
 * counters, learning rate, random stream and loss scaler stay as they were.
 */
class TrainerRestoreValidationTest {
    @TempDir Path dir;

    /** What a restore could change, to compare before and after a refused one. */
    record Snapshot(Map<String, float[]> params, long steps, int epochs, double lr, RngState rng, double scale) {
        static Snapshot of(Trainer t) {
            return new Snapshot(TrainerResumeTest.params(t.model(), t.kiln()), t.steps(), t.epochsCompleted(), t.optimizer().learningRate(),
                    t.kiln().rngState(), t.lossScale());
        }

        void assertSame(Snapshot after, String what) {
            params.forEach((n, v) -> assertArrayEquals(v, after.params.get(n), what + ": parameter " + n + " changed"));
            assertEquals(steps, after.steps, what);
            assertEquals(epochs, after.epochs, what);
            assertEquals(lr, after.lr, what);
            assertEquals(rng, after.rng, what);
            assertEquals(scale, after.scale, what);
        }
    }

    private static void refused(Trainer t, Path bad, String... expected) {
        Snapshot before = Snapshot.of(t);
        CheckpointException e = assertThrows(CheckpointException.class, () -> t.restore(bad), String.join(", ", expected));
        assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
        for (String s : expected) assertTrue(e.getMessage().contains(s), "expected \"" + s + "\" in: " + e.getMessage());
        before.assertSame(Snapshot.of(t), e.getMessage());
    }

    @Test void everyMetadataFieldIsCheckedAndARefusalChangesNothing() {
        Path good = dir.resolve("good.safetensors");
        try (Kiln kiln = TrainerResumeTest.open(); Trainer t = TrainerResumeTest.trainer(kiln, Blobs.model())) {
            t.fit(Blobs.dataset(96, 1), 2); // 12 steps; the checkpoint differs from what the trainer will hold
            t.save(good);
        }
        try (Kiln kiln = TrainerResumeTest.open(); Trainer t = TrainerResumeTest.trainer(kiln, Blobs.model())) {
            t.fit(Blobs.dataset(96, 1), 1);
            Object[][] cases = {
                {"step", "-1", "metadata \"step\" must be in [0, "},
                {"step", "twelve", "metadata \"step\" is not an integer: twelve"},
                {"step", null, "metadata lacks \"step\""},
                {"learning_rate", "NaN", "metadata \"learning_rate\" must be finite and >= 0.0, got NaN"},
                {"learning_rate", "-0.001", "metadata \"learning_rate\" must be finite and >= 0.0, got -0.001"},
                {"learning_rate", "Infinity", "metadata \"learning_rate\" must be finite"},
                {"epochs_completed", "-2", "metadata \"epochs_completed\" must be in [0, 2147483647], got -2"},
                {"epochs_completed", "3000000000", "metadata \"epochs_completed\" must be in [0, 2147483647]"},
                {"batches_in_epoch", "-1", "metadata \"batches_in_epoch\" must be in [0, "},
                {"batches_in_epoch", "50", "metadata \"batches_in_epoch\" is 50 after 2 epochs, but only 12 steps were taken"},
                {"epochs_completed", "13", "metadata \"batches_in_epoch\" is 0 after 13 epochs, but only 12 steps were taken"},
                {"schedule_step", "3", "metadata \"schedule_step\" must equal \"step\" (12)"},
                {"rng_position", "-5", "metadata \"rng_position\" must be in [0, "},
                {"rng_seed", "0x10", "metadata \"rng_seed\" is not an integer"},
                {"epoch_seen", "-1", "metadata \"epoch_seen\" must be in [0, "},
                {"epoch_correct", "1000", "metadata \"epoch_correct\" must be in [0, 96], got 1000"},
                {"epoch_loss_sum", "lots", "metadata \"epoch_loss_sum\" is not a number"},
                {"shuffle_seed", "8", "was trained with shuffle seed 8 but this trainer uses 7"},
                {"format_version", "2", "has checkpoint version 2"},
            };
            for (Object[] c : cases) {
                Path bad = CheckpointEdits.withMetadata(good, dir.resolve("bad.safetensors"), (String) c[0], (String) c[1]);
                refused(t, bad, (String) c[2]);
            }
            t.restore(good); // and the original still loads
            assertEquals(12, t.steps());
        }
    }

    @Test void optimizerStateMustFitEveryParameter() {
        Path good = dir.resolve("good.safetensors");
        try (Kiln kiln = TrainerResumeTest.open(); Trainer t = TrainerResumeTest.trainer(kiln, Blobs.model())) {
            t.fit(Blobs.dataset(96, 1), 1);
            t.save(good);
            StoredTensor wrongShape = StoredTensor.ofFloats(new float[16], Shape.of(4, 4));
            refused(t, CheckpointEdits.withTensors(good, dir.resolve("a.safetensors"), m -> m.put("optimizer.0.bias.exp_avg", wrongShape)),
                    "tensor \"optimizer.0.bias.exp_avg\" is F32[4, 4] but the parameter is [16]");
            refused(t, CheckpointEdits.withTensors(good, dir.resolve("b.safetensors"), m -> m.remove("optimizer.3.weight.exp_avg_sq")),
                    "parameter \"3.weight\" has optimizer state but lacks [exp_avg_sq]");
            refused(t, CheckpointEdits.withTensors(good, dir.resolve("c.safetensors"), m -> {
                m.remove("optimizer.3.bias.exp_avg");
                m.remove("optimizer.3.bias.exp_avg_sq");
            }), "has taken 6 steps but lacks optimizer state [exp_avg, exp_avg_sq] for [3.bias]");
            refused(t, CheckpointEdits.withTensors(good, dir.resolve("d.safetensors"), m -> m.put("optimizer.0.bias.momentum_buffer", m.get("optimizer.0.bias.exp_avg"))),
                    "unexpected tensor \"optimizer.0.bias.momentum_buffer\"");
            StoredTensor ints = StoredTensor.of(StoredTensor.Type.I32, new long[] {16}, new byte[64]);
            refused(t, CheckpointEdits.withTensors(good, dir.resolve("e.safetensors"), m -> m.put("optimizer.0.bias.exp_avg", ints)),
                    "tensor \"optimizer.0.bias.exp_avg\" is I32[16]");
        }
    }

    @Test void lossScalerStateMustBeFinitePositiveAndCounted() {
        Path good = dir.resolve("scaled.safetensors");
        try (Kiln kiln = TrainerResumeTest.open(); Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new Adam(1e-2)).batchSize(16).seed(7)
                .lossScaling(LossScaling.dynamic()).build()) {
            t.fit(Blobs.dataset(96, 1), 1);
            t.save(good);
            Object[][] cases = {
                {"scaler.scale", "0.0", "metadata \"scaler.scale\" must be finite and > 0.0, got 0.0"},
                {"scaler.scale", "-65536", "metadata \"scaler.scale\" must be finite and > 0.0"},
                {"scaler.scale", "NaN", "metadata \"scaler.scale\" must be finite and > 0.0, got NaN"},
                {"scaler.scale", "Infinity", "metadata \"scaler.scale\" must be finite"},
                {"scaler.scale", "1e-320", "metadata \"scaler.scale\" must be a positive finite float32, got 1.0E-320"},
                {"scaler.scale", "1e39", "metadata \"scaler.scale\" must be a positive finite float32, got 1.0E39"},
                {"scaler.good_steps", "-1.0", "metadata \"scaler.good_steps\" must be finite and >= 0.0, got -1.0"},
                {"scaler.good_steps", "2.5", "metadata \"scaler.good_steps\" must be a whole number, got 2.5"},
                {"scaler.skipped_steps", "7.0", "metadata \"scaler.skipped_steps\" is 7.0, more than the 6 steps taken"},
                {"scaler.skipped_steps", null, "metadata lacks \"scaler.skipped_steps\""},
            };
            t.fit(Blobs.dataset(96, 1), 2); // move on, so that a restore would change the scale and the step
            for (Object[] c : cases) {
                Path bad = CheckpointEdits.withMetadata(good, dir.resolve("bad.safetensors"), (String) c[0], (String) c[1]);
                refused(t, bad, (String) c[2]);
            }
        }
    }
}
