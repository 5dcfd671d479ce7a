package dev.kiln.bench;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Precision;
import dev.kiln.api.Tensor;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.Evaluation;
import dev.kiln.api.train.History;
import dev.kiln.api.train.Trainer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The wide MLP (784-1024-1024-10, Adam, batch 256) against the GEMM rate oneDNN itself reaches on
 * a large square matmul, in one run: prints both in GFLOP/s and their ratio, for fp32 and for
 * bf16-mixed, plus test accuracies. Usage: {@code WideMlpVsGemm [epochs=3] [gemmSize=2048]}.
 */
public final class WideMlpVsGemm {
    private static final int[] WIDTHS = {784, 1024, 1024, 10};

    private WideMlpVsGemm() {}

    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
        Dataset train = FashionMnist.train(), test = FashionMnist.test();
        double fp32 = 0;
        for (Precision p : List.of(Precision.fp32(), Precision.bf16Mixed())) {
            try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").precision(p).build())) {
                double gemm = gemmGflops(kiln, n);
                Sequential model = Sequential.of(new Flatten(), new Linear(784, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 10));
                try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(256).build()) {
                    History h = t.fit(train, epochs);
                    Evaluation e = t.evaluate(test);
                    double sps = medianSteadySamplesPerSecond(h);
                    double stepGflops = sps * trainingFlopsPerSample() / 1e9;
                    System.out.printf("%-10s gemm %dx%d: %7.1f GFLOP/s | wide MLP step: %,8.0f samples/s = %6.1f GFLOP/s = %5.1f%% of gemm | test acc %.4f%n",
                            kiln.precision().label(), n, n, gemm, sps, stepGflops, 100 * stepGflops / gemm, e.accuracy());
                    if (fp32 == 0) fp32 = sps;
                    else System.out.printf("bf16-mixed / fp32 samples/s: %.2f%n", sps / fp32);
                }
            }
        }
    }

    /** Forward, backward-data and backward-weights matmuls: 3 x 2 x sum(in x out) FLOPs per sample. */
    static double trainingFlopsPerSample() {
        double macs = 0;
        for (int i = 0; i + 1 < WIDTHS.length; i++) macs += (double) WIDTHS[i] * WIDTHS[i + 1];
        return 6 * macs;
    }

    /** Median over epochs after the first (which includes compiling). */
    static double medianSteadySamplesPerSecond(History h) {
        List<EpochLogs> e = h.epochs();
        double[] v = e.subList(e.size() > 1 ? 1 : 0, e.size()).stream().mapToDouble(EpochLogs::samplesPerSecond).sorted().toArray();
        return v[v.length / 2];
    }

    /** Median GFLOP/s of an n x n x n f32 matmul on the Kiln's accelerator, compiled once, run 9 times. */
    static double gemmGflops(Kiln kiln, int n) {
        SplittableRandom r = new SplittableRandom(1);
        float[] data = new float[n * n];
        for (int i = 0; i < data.length; i++) data[i] = (float) r.nextDouble(-1, 1);
        Tensor a = kiln.tensor(data, n, n), b = kiln.tensor(data, n, n);
        double[] t = new double[9];
        for (int i = -2; i < t.length; i++) {
            long s = System.nanoTime();
            Tensor c = a.matmul(b);
            long d = System.nanoTime() - s;
            c.close();
            if (i >= 0) t[i] = d / 1e9;
        }
        Arrays.sort(t);
        return 2.0 * n * n * n / t[t.length / 2] / 1e9;
    }
}
