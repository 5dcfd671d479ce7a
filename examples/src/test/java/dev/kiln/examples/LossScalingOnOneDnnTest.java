package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.LossScaling;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loss scaling in oneDNN's fused training step (turned on explicitly: oneDNN has no fp16): the
 * same parameters as without it while the gradients are finite, a skipped step and a halved
 * scale when they overflow, and still one compilation.
 */
class LossScalingOnOneDnnTest {
    static final int N = 24, IN = 12, CLASSES = 5;
    @TempDir Path dir;

    static InMemoryDataset data(float first) {
        SplittableRandom r = new SplittableRandom(8);
        float[] x = new float[N * IN];
        int[] y = new int[N];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < N; i++) y[i] = r.nextInt(CLASSES);
        if (first != 0) x[0] = first;
        return new InMemoryDataset(x, y, Shape.of(IN), CLASSES);
    }

    static List<float[]> params(Sequential model, Kiln kiln) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : model.parameters()) out.add(p.value(kiln).toFloatArray());
        return out;
    }

    static List<float[]> train(LossScaling scaling, Path jfr) throws Exception {
        try (Recording rec = new Recording(); Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").seed(4).build())) {
            rec.enable("dev.kiln.CompileStep");
            rec.start();
            Sequential model = Sequential.of(new Linear(IN, 16), new ReLU(), new Linear(16, CLASSES));
            Trainer.Builder b = Trainer.builder(kiln, model).optimizer(new Adam(1e-2)).batchSize(N);
            if (scaling != null) b.lossScaling(scaling);
            List<float[]> trained;
            try (Trainer t = b.build()) {
                t.fit(data(0), 3); // three full-batch steps
                trained = params(model, kiln);
                if (scaling != null) {
                    assertEquals(131072, t.lossScale(), "doubled after two finite steps");
                    t.fit(data(1e36f), 4); // times 2^17 the first layer's gradient overflows
                    for (int i = 0; i < trained.size(); i++) assertArrayEquals(trained.get(i), params(model, kiln).get(i));
                    assertEquals(65536, t.lossScale());
                    assertEquals(1, t.skippedSteps());
                }
            }
            rec.stop();
            rec.dump(jfr);
            long compiles = RecordingFile.readAllEvents(jfr).stream()
                    .filter(e -> e.getEventType().getName().equals("dev.kiln.CompileStep") && e.getBoolean("training")).count();
            assertEquals(1, compiles);
            return trained;
        }
    }

    @Test void scaledStepsMatchPlainOnesAndAnOverflowIsSkipped() throws Exception {
        List<float[]> plain = train(null, dir.resolve("plain.jfr"));
        List<float[]> scaled = train(LossScaling.dynamic().withGrowthInterval(2), dir.resolve("scaled.jfr"));
        for (int k = 0; k < plain.size(); k++) {
            for (int i = 0; i < plain.get(k).length; i++) {
                float want = plain.get(k)[i];
                assertEquals(want, scaled.get(k)[i], 1e-5 * Math.max(1, Math.abs(want)), "parameter " + k + "[" + i + "]");
            }
        }
    }
}
