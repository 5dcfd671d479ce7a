package dev.kiln.examples;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Quantization;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.Trainer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Kiln's half of bench/int8.sh: trains the wide MLP (784-1024-1024-10) and the seed MLP
 * (784-128-10) on Fashion-MNIST, saves their f32 weights for the PyTorch side, quantizes them
 * with {@link Quantization#quantizeDynamic}, and prints test accuracy and inference speed of both
 * forms at batch 1, 32 and 256, compiled: through a Trainer's evaluate ({@link #time}, the figure
 * bench/int8.sh compares) and, as a second figure, its predict on one batch ({@link #timePredict}).
 * Usage: {@code Int8Inference OUT_DIR [epochs] [seconds per measurement] [batches, e.g. 1,32,256]}.
 */
public final class Int8Inference {
    private Int8Inference() {}

    private static int[] batches = {1, 32, 256};

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: Int8Inference OUT_DIR [epochs] [seconds per measurement]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        int epochs = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 2;
        if (args.length > 3) batches = Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray();
        FashionMnistData.runOrExit(() -> run(out, epochs, seconds));
    }

    static void run(Path out, int epochs, double seconds) {
        FashionMnistData.ensure();
        Dataset train = FashionMnist.train(), test = FashionMnist.test();
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").build())) {
            for (String name : new String[] {"wide", "seed"}) {
                Sequential model = FashionMnistMlp.mlp(name.equals("wide") ? new int[] {1024, 1024} : new int[] {128});
                double fp32;
                try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(64).build()) {
                    if (epochs > 0) t.fit(train, epochs);
                    model.eval();
                    fp32 = t.evaluate(test).accuracy();
                }
                ModelWeights.save(model, kiln, out.resolve(name + ".safetensors"));
                Module int8 = Quantization.quantizeDynamic(model, kiln);
                double q;
                try (Trainer t = Trainer.builder(kiln, int8).optimizer(new Adam(1e-3)).batchSize(256).build()) {
                    q = t.evaluate(test).accuracy();
                }
                System.out.printf(Locale.ROOT, "kiln fp32 %s accuracy: %.4f%n", name, fp32);
                System.out.printf(Locale.ROOT, "kiln int8 %s accuracy: %.4f%n", name, q);
                for (int b : batches) {
                    report("fp32", name, b, time(kiln, model, test, b, seconds));
                    report("int8", name, b, time(kiln, int8, test, b, seconds));
                }
                for (int b : batches) {
                    report("predict fp32", name, b, timePredict(kiln, model, test, b, seconds));
                    report("predict int8", name, b, timePredict(kiln, int8, test, b, seconds));
                }
            }
        }
    }

    private static void report(String kind, String model, int batch, double[] secondsPerSample) {
        double perSample = median(secondsPerSample), perBatch = perSample * batch;
        System.out.printf(Locale.ROOT, "kiln %s %s batch %d: %.0f samples/s, median latency %.1f us%n", kind, model, batch, 1 / perSample, perBatch * 1e6);
    }

    /**
     * Seconds per sample of compiled inference at {@code batch}: a Trainer's {@code evaluate} over
     * the first test images, which compiles the forward pass once per batch size and then runs it
     * (with the loss and the accuracy count, which are small next to the layers). Kiln's eager
     * {@code forward} is not used: it costs milliseconds per op at these sizes, whatever the op.
     * One value per repetition, after a warm-up that compiles.
     */
    private static double[] time(Kiln kiln, Module model, Dataset test, int batch, double seconds) {
        int n = batch == 1 ? 500 : batch * Math.max(1, 2560 / batch);
        int[] first = new int[n];
        for (int i = 0; i < n; i++) first[i] = i;
        Dataset part = test.subset(first);
        try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(batch).topK(0).build()) {
            t.evaluate(part);
            double[] per = new double[1000];
            int r = 0;
            long end = System.nanoTime() + (long) (seconds * 1e9);
            while (r < per.length && (r < 3 || System.nanoTime() < end)) {
                long start = System.nanoTime();
                t.evaluate(part);
                per[r++] = (System.nanoTime() - start) / 1e9 / n;
            }
            return Arrays.copyOf(per, r);
        }
    }

    /**
     * Seconds per sample of a Trainer's {@code predict} on a tensor of the first {@code batch}
     * test images, PyTorch's {@code model(x)}: the forward pass alone, with the copy of x into
     * the compiled step and of the outputs into a new tensor, and no loss or accuracy.
     */
    private static double[] timePredict(Kiln kiln, Module model, Dataset test, int batch, double seconds) {
        int size = Math.toIntExact(test.exampleShape().size());
        float[] images = new float[Math.multiplyExact(batch, size)];
        for (int i = 0; i < batch; i++) test.features(i, images, i * size);
        int[] dims = new int[test.exampleShape().rank() + 1];
        dims[0] = batch;
        System.arraycopy(test.exampleShape().dims(), 0, dims, 1, dims.length - 1);
        int reps = Math.max(1, 2560 / batch);
        try (Tensor x = kiln.tensor(images, dims);
             Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(batch).build()) {
            t.predict(x).close();
            double[] per = new double[1000];
            int r = 0;
            long end = System.nanoTime() + (long) (seconds * 1e9);
            while (r < per.length && (r < 3 || System.nanoTime() < end)) {
                long start = System.nanoTime();
                for (int i = 0; i < reps; i++) t.predict(x).close();
                per[r++] = (System.nanoTime() - start) / 1e9 / reps / batch;
            }
            return Arrays.copyOf(per, r);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
