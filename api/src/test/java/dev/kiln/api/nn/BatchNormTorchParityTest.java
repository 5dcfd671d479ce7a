package dev.kiln.api.nn;

import static dev.kiln.api.nn.TorchParity.assertClose;
import static dev.kiln.api.nn.TorchParity.assertCount;
import static dev.kiln.api.nn.TorchParity.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.core.DType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BatchNorm2d in training mode under a {@link GradientTape} against PyTorch's: the output, the
 * gradients of {@code sum(out * w)} for the input, gamma and beta, and the running statistics
 * and batch count after one pass and after a second, all within {@link TorchParity#TOLERANCE};
 * and PyTorch state dicts of a BatchNorm2d alone and after a Conv2d, {@code num_batches_tracked}
 * included, giving PyTorch's evaluation-mode output.
 */
class BatchNormTorchParityTest {
    @TempDir Path dir;

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
            assertCount("num_batches_tracked after one pass", f.tensor("num_batches_tracked_1", null), bn.numBatchesTracked(), kiln);

            // A second pass, on a tape again: it reads the statistics the first pass left, and replaces them.
            try (GradientTape tape = kiln.tape()) {
                Tensor y2 = bn.forward(tensor(kiln, f, "input_2"));
                tape.gradient(y2.sum(), List.of(gamma));
                assertClose("output of the second pass", f.tensor("output_2", null), y2);
            }
            assertClose("running_mean after two passes", f.tensor("running_mean_2", null), bn.runningMean().value(kiln));
            assertClose("running_var after two passes", f.tensor("running_var_2", null), bn.runningVar().value(kiln));
            assertCount("num_batches_tracked after two passes", f.tensor("num_batches_tracked_2", null), bn.numBatchesTracked(), kiln);

            // Evaluation reads the statistics and counts nothing.
            bn.eval().forward(tensor(kiln, f, "input"));
            assertCount("num_batches_tracked after evaluating", f.tensor("num_batches_tracked_2", null), bn.numBatchesTracked(), kiln);
        }
    }

    @Test void aPyTorchStateDictOfABatchNormAloneLoadsWithItsBatchCount() {
        SafeTensorsFile io = TorchParity.read("batchnorm_eval.safetensors");
        try (Kiln kiln = javaref()) {
            BatchNorm2d bn = new BatchNorm2d(3);
            ModelWeights.load(bn, kiln, TorchParity.resource("batchnorm_state.safetensors"));
            assertEquals(2, bn.numBatchesTracked().value(kiln).toLongArray()[0]);
            bn.eval();
            assertClose("evaluation-mode output", io.tensor("output", null), bn.forward(tensor(kiln, io, "input")));

            // Saved again, the state dict is PyTorch's: the same names, and the count an i64 scalar.
            Path saved = dir.resolve("bn.safetensors");
            ModelWeights.save(bn, kiln, saved);
            Map<String, StoredTensor> back = SafeTensorsFile.read(saved).tensors();
            assertEquals(List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"), List.copyOf(back.keySet()));
            StoredTensor count = back.get("num_batches_tracked");
            assertEquals(StoredTensor.Type.I64, count.dtype());
            assertEquals(0, count.shape().length);
            assertEquals(2, count.toLongs()[0]);
        }
    }

    @Test void aPyTorchConvBatchNormStateDictGivesPyTorchsEvaluationOutput() {
        SafeTensorsFile io = TorchParity.read("conv_bn_io.safetensors");
        try (Kiln kiln = javaref()) {
            Sequential model = Sequential.of(new Conv2d(1, 3, 3), new BatchNorm2d(3));
            ModelWeights.load(model, kiln, TorchParity.resource("conv_bn_state.safetensors"));
            model.eval();
            assertClose("Conv2d + BatchNorm2d evaluation output", io.tensor("output", null), model.forward(tensor(kiln, io, "input")));
            assertEquals(2, model.namedBuffers().get("1.num_batches_tracked").value(kiln).toLongArray()[0]);
        }
    }

    @Test void aStateDictWithoutTheCountStartsItAtZeroAndAFloatCountIsRefused() {
        Map<String, StoredTensor> state = new LinkedHashMap<>(SafeTensorsFile.read(TorchParity.resource("batchnorm_state.safetensors")).tensors());
        try (Kiln kiln = javaref()) {
            BatchNorm2d bn = new BatchNorm2d(3);
            bn.forward(kiln.zeros(2, 3, 1, 1).add(kiln.tensor(new float[] {0, 1}, 2, 1, 1, 1)));
            assertEquals(1, bn.numBatchesTracked().value(kiln).toLongArray()[0]);
            // As PyTorch loading a state dict from before BatchNorm counted (and Kiln files from before Kiln did).
            StoredTensor count = state.remove("num_batches_tracked");
            ModelWeights.apply(bn, kiln, state, null);
            assertEquals(0, bn.numBatchesTracked().value(kiln).toLongArray()[0]);

            state.put("num_batches_tracked", StoredTensor.ofFloats(new float[] {2}, dev.kiln.core.Shape.scalar()));
            CheckpointException e = assertThrows(CheckpointException.class, () -> ModelWeights.apply(bn, kiln, state, null));
            assertTrue(e.getMessage().contains("tensor \"num_batches_tracked\" is F32, not an integer type"), e.getMessage());
            state.put("num_batches_tracked", count);
            ModelWeights.apply(bn, kiln, state, null);
            assertEquals(DType.I64, bn.numBatchesTracked().value(kiln).dtype());
            assertEquals(2, bn.numBatchesTracked().value(kiln).toLongArray()[0]);
        }
    }
}
