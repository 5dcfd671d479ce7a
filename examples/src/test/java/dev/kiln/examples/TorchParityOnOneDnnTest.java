package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.api.nn.BatchNorm2d;
import dev.kiln.api.nn.MultiHeadAttention;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The PyTorch fixtures of the api module's BatchNorm and attention parity tests (written by
 * {@code api/src/test/resources/parity/bn_mha_fixtures.py}), on the oneDNN plugin: batch norm
 * trained under a tape, and a PyTorch attention state dict, give PyTorch's numbers here too.
 */
class TorchParityOnOneDnnTest {
    static final Path FIXTURES = RepositoryTest.ROOT.resolve("api/src/test/resources/parity");
    /** As the api tests: float32 rounding, relative to the largest value. */
    static final double TOLERANCE = 1e-5;

    static Tensor tensor(Kiln kiln, SafeTensorsFile f, String name) {
        StoredTensor t = f.tensor(name, null);
        return kiln.tensor(t.toFloats(), t.kilnShape().dims());
    }

    static void assertClose(String what, StoredTensor expected, Tensor got) {
        float[] want = expected.toFloats(), have = got.toFloatArray();
        assertEquals(want.length, have.length, what);
        double scale = 0, diff = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - have[i]));
        assertTrue(diff <= TOLERANCE * scale, what + ": max |kiln - torch| = " + diff + " against max |torch| = " + scale);
    }

    @Test void batchNormUnderATapeMatchesPyTorch() {
        SafeTensorsFile f = SafeTensorsFile.read(FIXTURES.resolve("batchnorm_train.safetensors"));
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").build())) {
            BatchNorm2d bn = new BatchNorm2d(3);
            bn.namedParameters().get("weight").set(kiln, f.tensor("gamma", null).toFloats());
            bn.namedParameters().get("bias").set(kiln, f.tensor("beta", null).toFloats());
            Tensor gamma = bn.namedParameters().get("weight").value(kiln), beta = bn.namedParameters().get("bias").value(kiln);
            Tensor x = tensor(kiln, f, "input");
            try (GradientTape tape = kiln.tape()) {
                Tensor y = bn.forward(x);
                List<Tensor> g = tape.gradient(y.mul(tensor(kiln, f, "loss_weights")).sum(), List.of(x, gamma, beta));
                assertClose("output", f.tensor("output", null), y);
                assertClose("d loss / d input", f.tensor("grad_input", null), g.get(0));
                assertClose("d loss / d gamma", f.tensor("grad_gamma", null), g.get(1));
                assertClose("d loss / d beta", f.tensor("grad_beta", null), g.get(2));
            }
            bn.forward(tensor(kiln, f, "input_2"));
            assertClose("running_mean after two passes", f.tensor("running_mean_2", null), bn.runningMean().value(kiln));
            assertClose("running_var after two passes", f.tensor("running_var_2", null), bn.runningVar().value(kiln));
            assertEquals(2, bn.numBatchesTracked().value(kiln).toLongArray()[0]);
        }
    }

    @Test void aPyTorchAttentionStateDictGivesItsOutput() {
        SafeTensorsFile io = SafeTensorsFile.read(FIXTURES.resolve("mha_io.safetensors"));
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").build())) {
            for (boolean causal : new boolean[] {false, true}) {
                MultiHeadAttention mha = new MultiHeadAttention(8, 2, causal);
                ModelWeights.load(mha, kiln, FIXTURES.resolve("mha_state.safetensors"));
                assertClose(causal ? "causal output" : "output", io.tensor(causal ? "output_causal" : "output", null), mha.forward(tensor(kiln, io, "input")));
            }
        }
    }
}
