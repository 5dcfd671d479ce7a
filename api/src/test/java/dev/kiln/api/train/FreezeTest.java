package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.loss.Loss;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.SGD;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Frozen parameters keep their values through compiled and eager steps; unfreezing trains them again. */
class FreezeTest {
    private static float[] values(Kiln kiln, Parameter p) { return p.value(kiln).toFloatArray(); }

    @Test void aFrozenBackboneKeepsItsWeightsWhileTheHeadTrainsAndUnfreezingRecompiles() {
        InMemoryDataset data = Blobs.dataset(256, 1);
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build())) {
            Sequential model = Blobs.model();
            Module backbone = model.children().getFirst(), head = model.children().getLast();
            backbone.freeze();
            assertFalse(backbone.parameters().getFirst().isTrainable());
            float[] frozen = values(kiln, backbone.parameters().getFirst()), headBefore = values(kiln, head.parameters().getFirst());
            try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-2)).batchSize(32).build()) {
                t.fit(data, 1);
                assertArrayEquals(frozen, values(kiln, backbone.parameters().getFirst()), "the frozen layer did not move");
                assertFalse(Arrays.equals(headBefore, values(kiln, head.parameters().getFirst())), "the head trained");
                backbone.unfreeze();
                t.fit(data, 2);
                assertFalse(Arrays.equals(frozen, values(kiln, backbone.parameters().getFirst())), "unfrozen, the layer trains again");
            }
        }
    }

    @Test void anEagerStepLeavesFrozenParametersAsTheyAre() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build())) {
            Sequential model = Blobs.model();
            List<Parameter> params = model.parameters();
            params.getFirst().setTrainable(false);
            float[] first = values(kiln, params.getFirst()), second = values(kiln, params.get(1));
            InMemoryDataset data = Blobs.dataset(8, 2);
            Tensor x = kiln.tensor(Arrays.copyOf(data.features(), 8 * Blobs.FEATURES), 8, Blobs.FEATURES), y = kiln.tensor(data.labels(), 8);
            SGD sgd = new SGD(0.1);
            try (GradientTape tape = kiln.tape()) {
                Tensor loss = Loss.crossEntropy().compute(model.forward(x), y);
                sgd.step(kiln, params, tape.gradient(loss, params.stream().map(p -> p.value(kiln)).toList()));
            }
            assertArrayEquals(first, values(kiln, params.getFirst()));
            assertTrue(!Arrays.equals(second, values(kiln, params.get(1))), "the trainable bias moved");
        }
    }
}
