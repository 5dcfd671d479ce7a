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
 * forms at batch 1, 32 and 256 (eager forward on images already in memory, as PyTorch's is timed).
 * Usage: {@code Int8Inference OUT_DIR [epochs] [seconds per measurement]}.
 */
public final class Int8Inference {
    private Int8Inference() {}

    private static final int[] BATCHES = {1, 32, 256};

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: Int8Inference OUT_DIR [epochs] [seconds per measurement]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        int epochs = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 2;
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
                    t.fit(train, epochs);
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
                for (int b : BATCHES) {
                    Tensor x = images(kiln, test, b);
                    report("fp32", name, b, time(model, x, seconds));
                    report("int8", name, b, time(int8, x, seconds));
                }
            }
        }
    }

    private static void report(String kind, String model, int batch, double[] secondsPerCall) {
        double median = median(secondsPerCall);
        System.out.printf(Locale.ROOT, "kiln %s %s batch %d: %.0f samples/s, median latency %.1f us%n", kind, model, batch, batch / median, median * 1e6);
    }

    /** The first {@code batch} test images, [batch, 28, 28]. */
    private static Tensor images(Kiln kiln, Dataset test, int batch) {
        int size = test.exampleSize();
        float[] data = new float[Math.multiplyExact(batch, size)];
        for (int i = 0; i < batch; i++) test.features(i, data, i * size);
        return kiln.tensor(data, batch, 28, 28);
    }

    /** Seconds per forward over about {@code seconds} after a warm-up (which compiles each op once). */
    private static double[] time(Module model, Tensor x, double seconds) {
        for (int i = 0; i < 20; i++) model.forward(x).toFloatArray();
        double[] t = new double[1 << 16];
        int n = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (n < t.length && (n < 10 || System.nanoTime() < end)) {
            long start = System.nanoTime();
            model.forward(x).toFloatArray();
            t[n++] = (System.nanoTime() - start) / 1e9;
        }
        return Arrays.copyOf(t, n);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
