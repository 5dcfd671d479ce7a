package dev.kiln.api.nn;

import static dev.kiln.api.nn.TorchParity.assertClose;
import static dev.kiln.api.nn.TorchParity.tensor;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * BatchNorm2d in training mode under a {@link GradientTape} against PyTorch's: the output, the
 * gradients of {@code sum(out * w)} for the input, gamma and beta, and the running statistics
 * after one pass and after a second, all within {@link TorchParity#TOLERANCE}.
 */
class BatchNormTorchParityTest {
    static Kiln javaref() { return Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    @Test void trainingUnderATapeMatchesPyTorch() {
        SafeTensorsFile f = TorchParity.read("batchnorm_train.safetensors");
        try (Kiln kiln = javaref()) {
            BatchNorm2d bn = new BatchNorm2d(3);
            bn.namedParameters().get("weight").set(kiln, f.tensor("gamma", null).toFloats());
            bn.namedParameters().get("bias").set(kiln, f.tensor("beta", null).toFloats());
            Tensor gamma = bn.namedParameters().get("weight").value(kiln), beta = bn.namedParameters().get("bias").value(kiln);
            Tensor x = tensor(kiln, f, "input"), w = tensor(kiln, f, "loss_weights");
            try (GradientTape tape = kiln.tape()) {
                Tensor y = bn.forward(x);
                List<Tensor> g = tape.gradient(y.mul(w).sum(), List.of(x, gamma, beta));
                assertClose("output", f.tensor("output", null), y);
                assertClose("d loss / d input", f.tensor("grad_input", null), g.get(0));
                assertClose("d loss / d gamma", f.tensor("grad_gamma", null), g.get(1));
                assertClose("d loss / d beta", f.tensor("grad_beta", null), g.get(2));
            }
            assertClose("running_mean after one pass", f.tensor("running_mean_1", null), bn.runningMean().value(kiln));
            assertClose("running_var after one pass", f.tensor("running_var_1", null), bn.runningVar().value(kiln));

            // A second pass, on a tape again: it reads the statistics the first pass left, and replaces them.
            try (GradientTape tape = kiln.tape()) {
                Tensor y2 = bn.forward(tensor(kiln, f, "input_2"));
                tape.gradient(y2.sum(), List.of(gamma));
                assertClose("output of the second pass", f.tensor("output_2", null), y2);
            }
            assertClose("running_mean after two passes", f.tensor("running_mean_2", null), bn.runningMean().value(kiln));
            assertClose("running_var after two passes", f.tensor("running_var_2", null), bn.runningVar().value(kiln));
        }
    }
}
