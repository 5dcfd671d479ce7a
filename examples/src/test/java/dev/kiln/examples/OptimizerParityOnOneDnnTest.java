package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.LrSchedule;
import dev.kiln.api.optim.Optimizer;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cross-entropy runs of the api module's OptimizerParityTest on oneDNN, whose compiled step
 * runs Adam as its own fused kernel rather than the decomposition: the same PyTorch 1.13 weights
 * ({@code api/src/test/resources/parity/adam_linear.safetensors}), the same tolerance.
 */
class OptimizerParityOnOneDnnTest {
    /** max |kiln - torch| / max |torch| per tensor: a few float32 ulps of the largest weight. */
    private static final double TOL = 4e-7;
    private static final List<Integer> SNAPSHOTS = List.of(1, 2, 5, 20);

    /** Maven runs tests in the module's directory; the fixture belongs to its sibling api. */
    private final Path path = Path.of("").toAbsolutePath().resolveSibling("api").resolve("src/test/resources/parity/adam_linear.safetensors");

    @Test void adamMatchesPyTorch() { train("adam", new Adam(1e-2)); }

    @Test void adamWithL2DecayMatchesPyTorch() { train("adam_l2", new Adam(1e-2, 0.9, 0.999, 1e-8, 0.01, false)); }

    @Test void adamWWithWarmupAndCosineMatchesPyTorch() {
        LrSchedule s = LrSchedule.linear(1e-2, 0.1, 1.0, 5).then(5, LrSchedule.cosine(1e-2, 10, 1e-3));
        train("adamw", Adam.adamW(1e-2, 0.1).schedule(s));
    }

    private void train(String name, Optimizer opt) {
        assertTrue(Files.isRegularFile(path), "the fixture should be at " + path);
        SafeTensorsFile f = SafeTensorsFile.read(path);
        double[] labels = f.tensor("labels", path).toDoubles();
        int[] y = new int[labels.length];
        for (int i = 0; i < y.length; i++) y[i] = (int) labels[i];
        InMemoryDataset data = new InMemoryDataset(f.tensor("x", path).toFloats(), y, Shape.of(4), 3);
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").build())) {
            Linear model = new Linear(4, 3);
            ModelWeights.apply(model, kiln, Map.of("weight", f.tensor("init.weight", path), "bias", f.tensor("init.bias", path)), path);
            try (Trainer t = Trainer.builder(kiln, model).optimizer(opt).batchSize(y.length).build()) {
                for (int k = 1; k <= 20; k++) {
                    t.fit(data, k); // one more epoch: one more full-batch step
                    if (!SNAPSHOTS.contains(k)) continue;
                    for (var e : model.namedParameters().entrySet()) {
                        String key = name + ".ce.step" + k + "." + e.getKey();
                        float[] want = f.tensor(key, path).toFloats(), got = e.getValue().value(kiln).toFloatArray();
                        double diff = 0, scale = 0;
                        for (int i = 0; i < want.length; i++) {
                            diff = Math.max(diff, Math.abs((double) got[i] - want[i]));
                            scale = Math.max(scale, Math.abs(want[i]));
                        }
                        assertTrue(diff / scale <= TOL, key + ": max |kiln - torch| / max |torch| = " + diff / scale + " > " + TOL);
                    }
                }
            }
        }
    }
}
