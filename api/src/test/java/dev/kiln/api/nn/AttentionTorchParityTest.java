package dev.kiln.api.nn;

import static dev.kiln.api.nn.TorchParity.assertClose;
import static dev.kiln.api.nn.TorchParity.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.internal.OldAttentionNames;
import dev.kiln.core.Shape;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MultiHeadAttention against PyTorch's {@code nn.MultiheadAttention(8, 2, batch_first=True)}: its
 * state dict loads unchanged and gives its output, with and without a causal mask; a Kiln
 * checkpoint from before the packed layout still loads; and PyTorch loads what Kiln saves.
 */
class AttentionTorchParityTest {
    @TempDir Path dir;

    static Kiln javaref() { return Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    @Test void aPyTorchStateDictLoadsUnchangedAndGivesItsOutput() {
        SafeTensorsFile io = TorchParity.read("mha_io.safetensors");
        try (Kiln kiln = javaref()) {
            for (boolean causal : new boolean[] {false, true}) {
                MultiHeadAttention mha = new MultiHeadAttention(8, 2, causal);
                assertEquals(List.of("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"), List.copyOf(mha.namedParameters().keySet()));
                ModelWeights.load(mha, kiln, TorchParity.resource("mha_state.safetensors"));
                assertClose(causal ? "causal output" : "output", io.tensor(causal ? "output_causal" : "output", null), mha.forward(tensor(kiln, io, "input")));
            }
        }
    }

    /** The layout before this one: four Linears, children 0 to 3 (query, key, value, output). */
    static Map<String, StoredTensor> oldLayout(Map<String, StoredTensor> torch, String at) {
        float[] w = torch.get("in_proj_weight").toFloats(), b = torch.get("in_proj_bias").toFloats();
        Map<String, StoredTensor> old = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            old.put(at + i + ".weight", StoredTensor.ofFloats(Arrays.copyOfRange(w, i * 64, (i + 1) * 64), Shape.of(8, 8)));
            old.put(at + i + ".bias", StoredTensor.ofFloats(Arrays.copyOfRange(b, i * 8, (i + 1) * 8), Shape.of(8)));
        }
        old.put(at + "3.weight", torch.get("out_proj.weight"));
        old.put(at + "3.bias", torch.get("out_proj.bias"));
        return old;
    }

    @Test void aKilnCheckpointInTheOldLayoutStillLoads() {
        Map<String, StoredTensor> torch = TorchParity.read("mha_state.safetensors").tensors();
        SafeTensorsFile io = TorchParity.read("mha_io.safetensors");
        try (Kiln kiln = javaref()) {
            // Inside a model, as CharTransformer has it: only the attention's own path is repacked.
            Sequential model = Sequential.of(new Linear(8, 8), new Residual(Sequential.of(new LayerNorm(8), new MultiHeadAttention(8, 2, false))));
            Map<String, StoredTensor> file = new LinkedHashMap<>(oldLayout(torch, "1.0.1."));
            Linear first = (Linear) model.children().getFirst();
            file.put("0.weight", StoredTensor.ofFloats(first.weight().value(kiln).toFloatArray(), Shape.of(8, 8)));
            file.put("0.bias", StoredTensor.ofFloats(first.bias().value(kiln).toFloatArray(), Shape.of(8)));
            file.put("1.0.0.weight", StoredTensor.ofFloats(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, Shape.of(8)));
            file.put("1.0.0.bias", StoredTensor.ofFloats(new float[8], Shape.of(8)));
            ModelWeights.apply(model, kiln, file, null);
            MultiHeadAttention mha = new MultiHeadAttention(8, 2, false);
            ModelWeights.apply(mha, kiln, oldLayout(torch, ""), null);
            assertClose("output after loading the old layout", io.tensor("output", null), mha.forward(tensor(kiln, io, "input")));
            assertTrue(Arrays.equals(torch.get("in_proj_weight").toFloats(), model.namedParameters().get("1.0.1.in_proj_weight").value(kiln).toFloatArray()));
        }
    }

    @Test void oldOptimizerStateIsPackedAlongWithItsParameter() {
        Map<String, StoredTensor> torch = TorchParity.read("mha_state.safetensors").tensors();
        Map<String, StoredTensor> file = new LinkedHashMap<>(oldLayout(torch, ""));
        oldLayout(torch, "").forEach((name, t) -> file.put("optimizer." + name + ".exp_avg", t));
        Map<String, StoredTensor> now = OldAttentionNames.upgrade(new MultiHeadAttention(8, 2, true), file);
        assertEquals(List.of("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias",
                "optimizer.in_proj_weight.exp_avg", "optimizer.in_proj_bias.exp_avg", "optimizer.out_proj.weight.exp_avg",
                "optimizer.out_proj.bias.exp_avg"), List.copyOf(now.keySet()));
        assertTrue(Arrays.equals(torch.get("in_proj_bias").toFloats(), now.get("optimizer.in_proj_bias.exp_avg").toFloats()));
        assertEquals(List.of(24L, 8L), Arrays.stream(now.get("in_proj_weight").shape()).boxed().toList());
    }

    @Test void pytorchLoadsWhatKilnSaves() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        Process probe = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").redirectErrorStream(true).start();
        Assumptions.assumeTrue(probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0,
                "python3-torch is not installed (sudo apt-get install python3-torch)");
        Path mhaFile = dir.resolve("mha.safetensors"), convBnFile = dir.resolve("conv_bn.safetensors"), ioFile = dir.resolve("io.safetensors");
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(5).build())) {
            MultiHeadAttention mha = new MultiHeadAttention(8, 2, false);
            Sequential convBn = Sequential.of(new Conv2d(1, 3, 3), new BatchNorm2d(3));
            float[] x = new float[2 * 5 * 8], image = new float[2 * 36];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.37);
            for (int i = 0; i < image.length; i++) image[i] = (float) Math.cos(i * 0.21) * 2 + 1;
            convBn.forward(kiln.tensor(image, 2, 1, 6, 6)); // one training pass: statistics and count move
            convBn.eval();
            Map<String, StoredTensor> io = new LinkedHashMap<>();
            io.put("mha_input", StoredTensor.ofFloats(x, Shape.of(2, 5, 8)));
            io.put("mha_output", StoredTensor.ofFloats(mha.forward(kiln.tensor(x, 2, 5, 8)).toFloatArray(), Shape.of(2, 5, 8)));
            io.put("conv_bn_input", StoredTensor.ofFloats(image, Shape.of(2, 1, 6, 6)));
            io.put("conv_bn_output", StoredTensor.ofFloats(convBn.forward(kiln.tensor(image, 2, 1, 6, 6)).toFloatArray(), Shape.of(2, 3, 4, 4)));
            ModelWeights.save(mha, kiln, mhaFile);
            ModelWeights.save(convBn, kiln, convBnFile);
            new SafeTensorsFile(io, Map.of()).write(ioFile);
        }
        Process p = new ProcessBuilder("/usr/bin/python3", TorchParity.resource("bn_mha_fixtures.py").toString(), "check-kiln",
                mhaFile.toString(), convBnFile.toString(), ioFile.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python timed out: " + out);
        assertEquals(0, p.exitValue(), "PyTorch disagrees with Kiln:\n" + out);
        assertTrue(out.contains("num_batches_tracked 1 torch.int64"), out);
    }
}
