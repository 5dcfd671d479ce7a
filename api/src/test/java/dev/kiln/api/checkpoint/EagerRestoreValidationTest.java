package dev.kiln.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.RngState;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Optimizer;
import dev.kiln.core.Shape;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An eager checkpoint with a bad field is refused, naming the file and the field, before the
 * model, the optimizer or the random stream changes (a negative step once reached the optimizer
 * only after the model had taken the file's weights).
 */
class EagerRestoreValidationTest {
    @TempDir Path dir;

    private static Map<String, float[]> weights(Sequential m, Kiln kiln) {
        Map<String, float[]> out = new LinkedHashMap<>();
        ModelWeights.stateOf(m).forEach((n, p) -> out.put(n, p.value(kiln).toFloatArray()));
        return out;
    }

    @Test void badFieldsAreRefusedAndChangeNothing() {
        EagerCheckpointTest loop = new EagerCheckpointTest();
        Path good = dir.resolve("eager.safetensors");
        try (Kiln kiln = EagerCheckpointTest.open()) {
            Sequential m = EagerCheckpointTest.model();
            Optimizer opt = EagerCheckpointTest.adam();
            for (int s = 0; s < 3; s++) loop.step(kiln, m, opt);
            EagerCheckpoint.save(good, kiln, m, opt, Map.of());
        }
        try (Kiln kiln = EagerCheckpointTest.open()) {
            Sequential m = EagerCheckpointTest.model();
            Optimizer opt = EagerCheckpointTest.adam();
            loop.step(kiln, m, opt); // one step: other weights, optimizer state and step than the file's
            Object[][] meta = {
                {"step", "-1", "metadata \"step\" must be in [0, "},
                {"learning_rate", "NaN", "metadata \"learning_rate\" must be finite and >= 0.0, got NaN"},
                {"learning_rate", "-1e-3", "metadata \"learning_rate\" must be finite and >= 0.0"},
                {"rng_position", "-7", "metadata \"rng_position\" must be in [0, "},
                {"rng_seed", null, "metadata lacks \"rng_seed\""},
                {"format_version", "9", "metadata \"format_version\" is 9"},
                {"optimizer_state", "momentum_buffer", "holds optimizer state momentum_buffer"},
            };
            for (Object[] c : meta) refused(kiln, m, opt, CheckpointEdits.withMetadata(good, dir.resolve("bad.safetensors"), (String) c[0], (String) c[1]), (String) c[2]);
            refused(kiln, m, opt, CheckpointEdits.withTensors(good, dir.resolve("t1.safetensors"), t -> t.remove("optimizer.3.bias.exp_avg")),
                    "parameter \"3.bias\" has optimizer state but lacks [exp_avg]");
            refused(kiln, m, opt, CheckpointEdits.withTensors(good, dir.resolve("t2.safetensors"),
                    t -> t.put("optimizer.3.bias.exp_avg", StoredTensor.ofFloats(new float[4], Shape.of(2, 2)))), "is F32[2, 2] but the parameter is [3]");
            refused(kiln, m, opt, CheckpointEdits.withTensors(good, dir.resolve("t3.safetensors"),
                    t -> t.put("optimizer.7.weight.exp_avg", t.get("optimizer.3.bias.exp_avg"))), "unexpected tensor \"optimizer.7.weight.exp_avg\"");
            refused(kiln, m, opt, CheckpointEdits.withTensors(good, dir.resolve("t4.safetensors"),
                    t -> t.put("3.bias", StoredTensor.ofFloats(new float[4], Shape.of(4)))), "does not fit the model");
            EagerCheckpoint.restore(good, kiln, m, opt);
            assertEquals(3, opt.steps());
        }
    }

    private static void refused(Kiln kiln, Sequential m, Optimizer opt, Path bad, String expected) {
        Map<String, float[]> before = weights(m, kiln);
        float[] state = opt.state(m.namedParameters().get("0.weight")).getFirst().toFloatArray();
        long steps = opt.steps();
        double lr = opt.learningRate();
        RngState rng = kiln.rngState();
        CheckpointException e = assertThrows(CheckpointException.class, () -> EagerCheckpoint.restore(bad, kiln, m, opt), expected);
        assertTrue(e.getMessage().startsWith(bad.toString()) && e.getMessage().contains(expected), "expected \"" + expected + "\" in: " + e.getMessage());
        Map<String, float[]> after = weights(m, kiln);
        before.forEach((n, v) -> assertArrayEquals(v, after.get(n), expected + ": " + n + " changed"));
        assertArrayEquals(state, opt.state(m.namedParameters().get("0.weight")).getFirst().toFloatArray(), expected);
        assertEquals(steps, opt.steps(), expected);
        assertEquals(lr, opt.learningRate(), expected);
        assertEquals(rng, kiln.rngState(), expected);
    }

    @Test void aWeightsFileThatDoesNotFitLeavesTheModelAsItWas() {
        Path good = dir.resolve("w.safetensors");
        try (Kiln kiln = EagerCheckpointTest.open()) {
            Sequential m = EagerCheckpointTest.model();
            ModelWeights.save(m, kiln, good);
            Sequential other = EagerCheckpointTest.model();
            Map<String, float[]> before = weights(other, kiln);
            Path bad = CheckpointEdits.withTensors(good, dir.resolve("bad.safetensors"), t -> t.put("3.bias", StoredTensor.ofFloats(new float[4], Shape.of(4))));
            assertThrows(CheckpointException.class, () -> ModelWeights.load(other, kiln, bad));
            Map<String, float[]> after = weights(other, kiln);
            before.forEach((n, v) -> assertArrayEquals(v, after.get(n), n));
            ModelWeights.load(other, kiln, good);
            assertArrayEquals(weights(m, kiln).get("0.weight"), weights(other, kiln).get("0.weight"));
        }
    }
}
