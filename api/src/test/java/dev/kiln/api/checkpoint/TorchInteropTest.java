package dev.kiln.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints cross between Kiln and PyTorch for the same model. The files under
 * {@code resources/safetensors} were written by {@code make_fixtures.py} with Debian's
 * python3-torch; the last test runs PyTorch on a file Kiln wrote, when python3-torch is installed.
 */
class TorchInteropTest {
    @TempDir Path dir;

    static Sequential mlp() { return Sequential.of(new Flatten(), new Linear(6, 5), new ReLU(), new Linear(5, 3)); }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(TorchInteropTest.class.getResource("/safetensors/" + name).toURI());
    }

    @Test void pytorchWeightsGiveKilnThePyTorchOutput() throws Exception {
        SafeTensorsFile io = SafeTensorsFile.read(resource("torch_mlp_io.safetensors"));
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build())) {
            Sequential model = mlp();
            ModelWeights.load(model, kiln, resource("torch_mlp.safetensors"));
            StoredTensor x = io.tensor("input", null);
            Tensor y = model.forward(kiln.tensor(x.toFloats(), x.kilnShape().dims()));
            float[] expected = io.tensor("output", null).toFloats(), got = y.toFloatArray();
            for (int i = 0; i < expected.length; i++) assertEquals(expected[i], got[i], 1e-5 * Math.max(1, Math.abs(expected[i])), "output " + i);
        }
    }

    @Test void everyPyTorchDtypeReadsBack() throws Exception {
        SafeTensorsFile io = SafeTensorsFile.read(resource("torch_mlp_io.safetensors"));
        double[] ramp = {-1, -0.5, 0, 0.5, 1, 1.5}, ints = {0, 1, 2, 3, 4, 5}, bools = {0, 1, 1, 1, 1, 1};
        for (StoredTensor.Type t : StoredTensor.Type.values()) {
            StoredTensor s = io.tensor("ramp_" + t.name().toLowerCase(), null);
            assertEquals(t, s.dtype());
            double[] want = t == StoredTensor.Type.BOOL ? bools : t.isFloating() ? ramp : ints;
            assertArrayEquals(want, s.toDoubles(), t.name());
        }
        String producer = SafeTensorsFile.read(resource("torch_mlp.safetensors")).metadata().get("producer");
        assertTrue(producer != null && producer.startsWith("torch "), "metadata written by the script: " + producer);
    }

    @Test void aMismatchedModelIsRefusedAndLeftAsItWas() throws Exception {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build())) {
            Sequential wrong = Sequential.of(new Flatten(), new Linear(6, 4), new ReLU(), new Linear(4, 3));
            float[] before = wrong.namedParameters().get("1.weight").value(kiln).toFloatArray();
            CheckpointException e = assertThrows(CheckpointException.class, () -> ModelWeights.load(wrong, kiln, resource("torch_mlp.safetensors")));
            assertTrue(e.getMessage().contains("torch_mlp.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("tensor \"1.weight\" is F32[5, 6] but the parameter is [4, 6]"), e.getMessage());
            assertArrayEquals(before, wrong.namedParameters().get("1.weight").value(kiln).toFloatArray());
        }
    }

    @Test void pytorchLoadsAKilnCheckpoint() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        Process probe = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").redirectErrorStream(true).start();
        Assumptions.assumeTrue(probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0,
                "python3-torch is not installed (sudo apt-get install python3-torch)");
        Path weights = dir.resolve("kiln_mlp.safetensors"), ioFile = dir.resolve("kiln_io.safetensors");
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(3).build())) {
            Sequential model = mlp();
            float[] x = new float[4 * 6];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.7);
            float[] y = model.forward(kiln.tensor(x, 4, 2, 3)).toFloatArray();
            ModelWeights.save(model, kiln, weights);
            new SafeTensorsFile(Map.of("input", StoredTensor.ofFloats(x, dev.kiln.core.Shape.of(4, 2, 3)),
                    "output", StoredTensor.ofFloats(y, dev.kiln.core.Shape.of(4, 3))), Map.of()).write(ioFile);
        }
        Process p = new ProcessBuilder("/usr/bin/python3", resource("load_kiln_checkpoint.py").toString(), weights.toString(), ioFile.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python timed out: " + out);
        assertEquals(0, p.exitValue(), "PyTorch disagrees with Kiln:\n" + out);
        assertTrue(out.contains("max |torch - kiln|"), out);
    }

}
