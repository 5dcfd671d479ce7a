package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.Batch;
import dev.kiln.api.data.DataLoader;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A hand-written loop over {@link Trainer#trainOnBatch} is fit's compiled step, one batch at a time. */
class TrainOnBatchTest {
    @Test void aLoopOfTrainOnBatchGivesFitsWeights() {
        InMemoryDataset data = Blobs.dataset(96, 3);
        float[] viaFit, viaLoop;
        List<Double> losses = new ArrayList<>();
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(5).build())) {
            Sequential model = Blobs.model();
            model.children().get(2).eval(); // no dropout, so the two runs draw nothing different
            try (Trainer t = Trainer.builder(kiln, model).optimizer(new SGD(0.1)).batchSize(32).shuffle(false).build()) {
                t.fit(data, 2);
            }
            viaFit = model.parameters().getFirst().value(kiln).toFloatArray();
        }
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(5).build())) {
            Sequential model = Blobs.model();
            model.children().get(2).eval();
            try (Trainer t = Trainer.builder(kiln, model).optimizer(new SGD(0.1)).batchSize(32).shuffle(false).build()) {
                DataLoader loader = DataLoader.builder(data, 32).shuffle(false).build();
                for (int epoch = 0; epoch < 2; epoch++) for (Batch b : loader.epoch(epoch)) losses.add(t.trainOnBatch(b));
                assertEquals(6, t.steps());
                assertEquals(0, t.epochsCompleted(), "a loop of its own is not fit's epochs");
            }
            viaLoop = model.parameters().getFirst().value(kiln).toFloatArray();
        }
        assertArrayEquals(viaFit, viaLoop, "the same steps on the same batches");
        assertTrue(losses.getLast() < losses.getFirst(), "the loss falls: " + losses);
    }

    @Test void accumulationIsFitsAlone() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
             Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new SGD(0.1)).gradientAccumulation(2).build()) {
            Batch b = DataLoader.of(Blobs.dataset(8, 1), 8).iterator().next();
            assertThrows(IllegalStateException.class, () -> t.trainOnBatch(b));
        }
    }
}
