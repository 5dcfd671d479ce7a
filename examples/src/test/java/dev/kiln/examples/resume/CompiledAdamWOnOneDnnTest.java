package dev.kiln.examples.resume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.LrSchedule;
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
 * AdamW with a warm-up schedule and global-norm clipping, inside oneDNN's compiled (and fused)
 * training step, against the PyTorch rules in float64: three full-batch steps, each checked with
 * the gradients the eager tape gives at the parameters the step started from. The schedule
 * changes the rate every step while the step is compiled once.
 */
class CompiledAdamWOnOneDnnTest {
    @TempDir Path dir;

    @Test void threeStepsMatchTheFloat64Rule() throws Exception {
        int n = 24, in = 12, classes = 5;
        SplittableRandom r = new SplittableRandom(8);
        float[] x = new float[n * in];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < n; i++) y[i] = r.nextInt(classes);
        InMemoryDataset data = new InMemoryDataset(x, y, Shape.of(in), classes);
        double b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05, maxNorm = 0.3;
        LrSchedule schedule = LrSchedule.linearWarmup(2, LrSchedule.constant(0.02));
        Path jfr = dir.resolve("compile.jfr");
        try (Recording rec = new Recording();
             Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").seed(4).build())) {
            rec.enable("dev.kiln.CompileStep");
            rec.start();
            Sequential model = Sequential.of(new Linear(in, 16), new ReLU(), new Linear(16, classes));
            List<Parameter> ps = model.parameters();
            List<double[]> p = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
            for (Parameter q : ps) {
                p.add(toDouble(q.value(kiln).toFloatArray()));
                m.add(new double[(int) q.shape().size()]);
                v.add(new double[(int) q.shape().size()]);
            }
            double clipped = 1;
            try (Trainer t = Trainer.builder(kiln, model).optimizer(Adam.adamW(1, wd).schedule(schedule).clipGradNorm(maxNorm))
                    .batchSize(n).build()) {
                for (int step = 1; step <= 3; step++) {
                    List<float[]> g = gradients(kiln, model, ps, x, y, n, in);
                    double sq = 0;
                    for (float[] gi : g) for (float e : gi) sq += (double) e * e;
                    double scale = Math.min(1, maxNorm / (Math.sqrt(sq) + 1e-6)), lr = schedule.at(step - 1);
                    clipped = Math.min(clipped, scale);
                    for (int k = 0; k < ps.size(); k++) {
                        double[] pk = p.get(k), mk = m.get(k), vk = v.get(k);
                        for (int i = 0; i < pk.length; i++) {
                            double gi = g.get(k)[i] * scale;
                            pk[i] *= 1 - lr * wd;
                            mk[i] = b1 * mk[i] + (1 - b1) * gi;
                            vk[i] = b2 * vk[i] + (1 - b2) * gi * gi;
                            pk[i] -= lr * (mk[i] / (1 - Math.pow(b1, step))) / (Math.sqrt(vk[i] / (1 - Math.pow(b2, step))) + eps);
                        }
                    }
                    t.fit(data, step); // one more epoch = one more full-batch step
                    for (int k = 0; k < ps.size(); k++) {
                        float[] got = ps.get(k).value(kiln).toFloatArray();
                        for (int i = 0; i < got.length; i++) {
                            double want = p.get(k)[i];
                            assertEquals(want, got[i], 1e-5 * Math.max(1, Math.abs(want)), "step " + step + ", parameter " + k + "[" + i + "]");
                        }
                    }
                }
            }
            assertTrue(clipped < 0.9, "the test should exercise clipping; smallest scale " + clipped);
            rec.stop();
            rec.dump(jfr);
        }
        long trainingCompiles = RecordingFile.readAllEvents(jfr).stream()
                .filter(e -> e.getEventType().getName().equals("dev.kiln.CompileStep") && e.getBoolean("training")).count();
        assertEquals(1, trainingCompiles, "a changing learning rate must not recompile the step");
    }

    private static List<float[]> gradients(Kiln kiln, Sequential model, List<Parameter> ps, float[] x, int[] y, int n, int in) {
        List<Tensor> values = new ArrayList<>();
        for (Parameter q : ps) values.add(q.value(kiln));
        try (var tape = kiln.tape()) {
            Tensor loss = model.forward(kiln.tensor(x, n, in)).softmaxCrossEntropy(kiln.tensor(y, n));
            List<float[]> out = new ArrayList<>();
            for (Tensor g : tape.gradient(loss, values)) out.add(g.toFloatArray());
            return out;
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
