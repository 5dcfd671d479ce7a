package dev.kiln.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Dropout;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.LrSchedule;
import dev.kiln.api.optim.Optimizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GradientTape loop with dropout saved half-way and resumed in a fresh Kiln ends where the whole loop does. */
class EagerCheckpointTest {
    @TempDir Path dir;
    static final int STEPS = 6, SAVE = 3;
    final float[] x = new float[8 * 5];
    final int[] y = new int[8];

    EagerCheckpointTest() {
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = r.nextInt(3);
    }

    static Sequential model() { return Sequential.of(new Linear(5, 8), new ReLU(), new Dropout(0.3), new Linear(8, 3)); }

    static Optimizer adam() { return Adam.adamW(1e-2, 0.01).schedule(LrSchedule.cosine(2e-2, 6, 1e-3)).clipGradNorm(0.5); }

    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").seed(6).build()); }

    void step(Kiln kiln, Sequential m, Optimizer opt) {
        var params = m.parameters();
        try (var tape = kiln.tape()) {
            Tensor loss = m.forward(kiln.tensor(x, 8, 5)).softmaxCrossEntropy(kiln.tensor(y, 8));
            List<Tensor> g = tape.gradient(loss, params.stream().map(p -> p.value(kiln)).toList());
            opt.step(kiln, params, g);
        }
    }

    @Test void aResumedEagerLoopMatchesTheWholeOne() {
        float[] expected;
        try (Kiln kiln = open()) {
            Sequential m = model();
            Optimizer opt = adam();
            for (int s = 0; s < STEPS; s++) step(kiln, m, opt);
            expected = m.namedParameters().get("3.weight").value(kiln).toFloatArray();
        }
        Path f = dir.resolve("eager.safetensors");
        try (Kiln kiln = open()) {
            Sequential m = model();
            Optimizer opt = adam();
            for (int s = 0; s < SAVE; s++) step(kiln, m, opt);
            EagerCheckpoint.save(f, kiln, m, opt, Map.of("epoch", "0"));
        }
        try (Kiln kiln = open()) {
            Sequential m = model();
            Optimizer opt = adam();
            Map<String, String> meta = EagerCheckpoint.restore(f, kiln, m, opt);
            assertEquals("0", meta.get("epoch"));
            assertEquals(SAVE, opt.steps());
            for (int s = SAVE; s < STEPS; s++) step(kiln, m, opt);
            assertArrayEquals(expected, m.namedParameters().get("3.weight").value(kiln).toFloatArray());
        }
    }
}
