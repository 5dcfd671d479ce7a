package dev.kiln.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Quantization;
import dev.kiln.api.nn.QuantizedLinear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A quantized model saved and loaded: int8 weights and scales under documented names, the same outputs after. */
class QuantizedModelFileTest {
    @TempDir Path dir;

    private static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    @Test void savedAndLoadedGivesTheSameOutputs() {
        try (Kiln kiln = open()) {
            Sequential model = Sequential.of(new Linear(6, 5), new ReLU(), new Linear(5, 3));
            Module q = Quantization.quantizeDynamic(model, kiln);
            float[] xs = new float[4 * 6];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) Math.sin(i * 0.7) * 2;
            Tensor x = kiln.tensor(xs, 4, 6);
            float[] fp32 = model.forward(x).toFloatArray(), before = q.forward(x).toFloatArray();
            for (int i = 0; i < fp32.length; i++) assertEquals(fp32[i], before[i], 0.05, "int8 output " + i + " near the f32 one");

            Path file = dir.resolve("mlp-int8.safetensors");
            QuantizedModelFile.save(q, kiln, file);
            Map<String, StoredTensor> t = SafeTensorsFile.read(file).tensors();
            assertEquals(StoredTensor.Type.I8, t.get("0.weight").dtype());
            assertArrayEquals(new long[] {5, 6}, t.get("0.weight").shape());
            assertEquals(StoredTensor.Type.F32, t.get("0.weight_scale").dtype());
            assertEquals(StoredTensor.Type.F32, t.get("2.bias").dtype());
            assertEquals(6, t.size(), "weight, weight_scale and bias of two layers: " + t.keySet());

            Module loaded = QuantizedModelFile.load(kiln, file);
            assertTrue(loaded.children().get(0) instanceof QuantizedLinear, loaded.toString());
            assertArrayEquals(((QuantizedLinear) q.children().get(2)).weight(), ((QuantizedLinear) loaded.children().get(2)).weight());
            assertArrayEquals(before, loaded.forward(x).toFloatArray(), "loaded model computes the same");
        }
    }

    @Test void aFloatModelFileIsRefusedWithTheWayToLoadIt() throws Exception {
        try (Kiln kiln = open()) {
            Path file = dir.resolve("float.safetensors");
            ModelFile.save(Sequential.of(new Linear(2, 2)), kiln, file);
            var e = assertThrows(CheckpointException.class, () -> QuantizedModelFile.load(kiln, file));
            assertTrue(e.getMessage().contains("ModelFile.load"), e.getMessage());
            assertTrue(Files.exists(file));
        }
    }
}
