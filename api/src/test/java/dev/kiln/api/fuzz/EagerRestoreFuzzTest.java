package dev.kiln.api.fuzz;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.EagerCheckpoint;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Optimizer;
import dev.kiln.api.optim.SGD;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link EagerCheckpoint#restore} and {@link ModelWeights#load} on mutations of files a custom
 * loop wrote: each input loads or is refused with a {@link CheckpointException}.
 * 400 inputs each build; {@code -Pfuzz} runs 100000 ({@code docs/fuzzing.md}).
 */
class EagerRestoreFuzzTest {
    @TempDir Path dir;

    static void step(Kiln kiln, Sequential m, Optimizer opt) {
        var params = m.parameters();
        float[] x = new float[8 * 4];
        for (int i = 0; i < x.length; i++) x[i] = (i % 7) - 3;
        try (var tape = kiln.tape()) {
            Tensor loss = m.forward(kiln.tensor(x, 8, 4)).softmaxCrossEntropy(kiln.tensor(new int[] {0, 1, 2, 0, 1, 2, 0, 1}, 8));
            List<Tensor> g = tape.gradient(loss, params.stream().map(p -> p.value(kiln)).toList());
            opt.step(kiln, params, g);
        }
    }

    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").seed(4).build()); }

    @Test void eagerCheckpointsRestoreOrAreRefused() throws Exception {
        Path good = dir.resolve("eager.safetensors");
        try (Kiln kiln = open()) {
            Sequential m = TrainerRestoreFuzzTest.model();
            Optimizer opt = new SGD(0.1, 0.9);
            step(kiln, m, opt);
            step(kiln, m, opt);
            EagerCheckpoint.save(good, kiln, m, opt, Map.of("epoch", "1"));
            SafeTensorsImage valid = SafeTensorsImage.of(good);
            byte[] encoded = Files.readAllBytes(good);
            FuzzRun run = new FuzzRun("eager-restore", Set.of(CheckpointException.class), in -> (16L << 20) + 64L * in.length);
            run.run(FuzzRun.iterations(400), dir.resolve("input.safetensors"), (r, seed) -> TrainerRestoreFuzzTest.input(valid, encoded, r),
                    (file, seed) -> {
                        EagerCheckpoint.restore(file, kiln, m, opt);
                        double lr = opt.learningRate();
                        if (opt.steps() < 0 || !(lr >= 0) || Double.isInfinite(lr)) throw new AssertionError("restored step " + opt.steps() + ", lr " + lr);
                    });
        }
    }

    @Test void modelWeightsLoadOrAreRefused() throws Exception {
        Path good = dir.resolve("weights.safetensors");
        try (Kiln kiln = open()) {
            Sequential m = TrainerRestoreFuzzTest.model();
            ModelWeights.save(m, kiln, good);
            SafeTensorsImage valid = SafeTensorsImage.of(good);
            byte[] encoded = Files.readAllBytes(good);
            FuzzRun run = new FuzzRun("weights-load", Set.of(CheckpointException.class), in -> (16L << 20) + 64L * in.length);
            run.run(FuzzRun.iterations(400), dir.resolve("input.safetensors"), (r, seed) -> TrainerRestoreFuzzTest.input(valid, encoded, r),
                    (file, seed) -> ModelWeights.load(m, kiln, file));
        }
    }
}
