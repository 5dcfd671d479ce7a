package dev.kiln.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Architectures;
import dev.kiln.api.nn.AvgPool2d;
import dev.kiln.api.nn.BatchNorm2d;
import dev.kiln.api.nn.Conv2d;
import dev.kiln.api.nn.ConvTranspose2d;
import dev.kiln.api.nn.Dropout;
import dev.kiln.api.nn.Embedding;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.GELU;
import dev.kiln.api.nn.GRU;
import dev.kiln.api.nn.LSTM;
import dev.kiln.api.nn.LayerConfig;
import dev.kiln.api.nn.LayerNorm;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.MaxPool2d;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.MultiHeadAttention;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Reshape;
import dev.kiln.api.nn.Residual;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.nn.Sigmoid;
import dev.kiln.api.nn.Tanh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model saved whole and loaded without the code that built it gives the same outputs and weights. */
class ModelFileTest {
    @TempDir Path dir;
    Kiln kiln;

    @BeforeEach void open() { kiln = Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    @AfterEach void close() { kiln.close(); }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    /** Saves, loads, and checks config, parameter names and values, and the evaluation output. */
    private Module roundTrip(Module model, Tensor x) {
        model.forward(x); // a training pass, so batch norm's running statistics and count are not the initial ones
        Path f = dir.resolve("model.safetensors");
        ModelFile.save(model, kiln, f);
        Module loaded = ModelFile.load(kiln, f);
        assertEquals(ModelFile.json(model.config()), ModelFile.json(loaded.config()));
        assertEquals(model.namedParameters().keySet(), loaded.namedParameters().keySet());
        model.namedParameters().forEach((name, p) ->
                assertArrayEquals(p.value(kiln).toFloatArray(), loaded.namedParameters().get(name).value(kiln).toFloatArray(), name));
        model.eval();
        loaded.eval();
        assertArrayEquals(model.forward(x).toFloatArray(), loaded.forward(x).toFloatArray());
        return loaded;
    }

    @Test void anImageModelWithEveryConvolutionAndPoolingSetting() {
        Module model = Sequential.of(new Reshape(1, 8, 8), Conv2d.builder(1, 4).kernel(3, 2).padding(1, 0).build(), new BatchNorm2d(4), new ReLU(),
                new MaxPool2d(2, 2, 0, true), new ConvTranspose2d(4, 2, 3, 2, 1, 1), new AvgPool2d(3, 2, 1, true, false), new Flatten(),
                new Linear(50, 5), new GELU(GELU.Approximate.TANH), new Dropout(0.1), new LayerNorm(1e-5, false, 5),
                new Residual(Sequential.of(new Linear(5, 5), new Tanh())), new GELU(), new Sigmoid());
        roundTrip(model, kiln.tensor(random(2 * 64, 1), 2, 64));
    }

    @Test void aSequenceModelWithAttentionAndRecurrentLayers() {
        Module model = Sequential.of(new Embedding(10, 8), new MultiHeadAttention(8, 2, true), new LSTM(8, 6, 2, true), new GRU(6, 4, 1, true), new Flatten());
        roundTrip(model, kiln.tensor(new int[] {1, 3, 5, 7, 9, 0, 2, 4, 6, 8}, 2, 5));
    }

    /** A user's own layer, registered the way Keras's custom_objects are. */
    static final class Scale extends Module {
        final double factor;

        Scale(double factor) { this.factor = factor; }

        @Override public Tensor forward(Tensor x) { return x.mul(factor); }

        @Override public LayerConfig config() { return LayerConfig.of("test.Scale", "factor", factor); }
    }

    @Test void usersOwnLayersLoadOnceRegisteredAndOtherwiseFailNamingTheType() {
        Module model = Sequential.of(new Linear(3, 2), new Scale(2.5));
        Path f = dir.resolve("custom.safetensors");
        ModelFile.save(model, kiln, f);
        var e = assertThrows(CheckpointException.class, () -> ModelFile.load(kiln, f));
        assertTrue(e.getMessage().contains("no module type 'test.Scale' is registered"), e.getMessage());
        Architectures.register("test.Scale", c -> new Scale(c.number("factor")));
        roundTrip(model, kiln.tensor(random(6, 2), 2, 3));

        Module opaque = new Module() {
            @Override public Tensor forward(Tensor x) { return x; }
        };
        var u = assertThrows(UnsupportedOperationException.class, () -> ModelFile.save(opaque, kiln, dir.resolve("opaque.safetensors")));
        assertTrue(u.getMessage().contains("override config()"), u.getMessage());
        assertTrue(Files.notExists(dir.resolve("opaque.safetensors")), "nothing is written for a model that cannot be described");
    }

    @Test void renamedWeightsLoadIntoAModelWithOtherNames() {
        Linear trained = new Linear(3, 2);
        Path f = dir.resolve("ddp.safetensors");
        ModelWeights.save(Sequential.of(trained), kiln, f);
        // As DDP saves them: every name behind "module.".
        var ddp = ModelWeights.rename(SafeTensorsFile.read(f).tensors(), k -> "module." + k);
        Linear fresh = new Linear(3, 2);
        ModelWeights.apply(fresh, kiln, ModelWeights.rename(ddp, k -> k.substring("module.0.".length())), f);
        assertArrayEquals(trained.weight().value(kiln).toFloatArray(), fresh.weight().value(kiln).toFloatArray());
        var clash = assertThrows(IllegalArgumentException.class, () -> ModelWeights.rename(ddp, k -> "same"));
        assertTrue(clash.getMessage().contains("the same name \"same\""), clash.getMessage());
        assertEquals(1, ModelWeights.rename(ddp, k -> k.endsWith("bias") ? k : null).size(), "null drops a tensor");
    }

    @Test void aFileOfWeightsAloneIsNotAModelFile() {
        Path f = dir.resolve("weights.safetensors");
        ModelWeights.save(new Linear(3, 2), kiln, f);
        var e = assertThrows(CheckpointException.class, () -> ModelFile.load(kiln, f));
        assertTrue(e.getMessage().contains("not a Kiln model file") && e.getMessage().contains("ModelWeights.load"), e.getMessage());
    }
}
