package dev.kiln.api.fuzz;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.LossScaling;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Trainer#restore} on mutations of a real training checkpoint (Adam state, loss scaling):
 * mostly metadata values a restore must range-check and tensors that must fit the model, besides
 * corrupt headers and bytes. Every input restores or is refused with a {@link CheckpointException}.
 * 400 inputs each build; {@code -Pfuzz} runs 100000 ({@code docs/fuzzing.md}).
 */
class TrainerRestoreFuzzTest {
    @TempDir Path dir;

    static Sequential model() { return Sequential.of(new Linear(4, 6), new ReLU(), new Linear(6, 3)); }

    static InMemoryDataset data() {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[24 * 4];
        int[] y = new int[24];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = i % 3;
        return new InMemoryDataset(x, y, Shape.of(4), 3);
    }

    static Trainer trainer(Kiln kiln) {
        return Trainer.builder(kiln, model()).optimizer(new Adam(1e-2)).batchSize(8).seed(7).lossScaling(LossScaling.dynamic()).build();
    }

    static byte[] input(SafeTensorsImage valid, byte[] encoded, SplittableRandom r) {
        return switch (r.nextInt(20)) {
            case 0, 1, 2, 3, 4, 5, 6, 7 -> SafeTensorsMutations.metadataValue(valid, r);
            case 8, 9, 10, 11, 12 -> SafeTensorsMutations.structural(valid, r);
            case 13, 14 -> SafeTensorsMutations.textual(valid, r);
            case 15, 16, 17 -> Mutations.mutate(encoded, r);
            default -> encoded;
        };
    }

    /** What a restore that succeeds must leave: counters, rate, random stream and scale in their ranges. */
    static void restoredSanely(Trainer t) {
        double lr = t.optimizer().learningRate(), scale = t.lossScale();
        if (t.steps() < 0 || t.epochsCompleted() < 0 || !(lr >= 0) || Double.isInfinite(lr) || !(scale > 0) || Double.isInfinite(scale)
                || t.kiln().rngState().position() < 0 || t.skippedSteps() > t.steps()) {
            throw new AssertionError("restored out of range: step " + t.steps() + ", epochs " + t.epochsCompleted() + ", lr " + lr + ", scale " + scale
                    + ", skipped " + t.skippedSteps());
        }
    }

    @Test void everyInputRestoresOrIsRefusedWithACheckpointException() throws Exception {
        Path good = dir.resolve("good.safetensors");
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(2).build()); Trainer t = trainer(kiln)) {
            t.fit(data(), 2);
            t.save(good);
            SafeTensorsImage valid = SafeTensorsImage.of(good);
            byte[] encoded = Files.readAllBytes(good);
            FuzzRun run = new FuzzRun("trainer-restore", Set.of(CheckpointException.class), in -> (16L << 20) + 64L * in.length);
            run.run(FuzzRun.iterations(400), dir.resolve("input.safetensors"), (r, seed) -> input(valid, encoded, r), (file, seed) -> {
                t.restore(file);
                restoredSanely(t);
            });
        }
    }
}
