package dev.kiln.examples;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.data.Batch;
import dev.kiln.api.data.DataLoader;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.Optimizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * A training loop written by hand, as in PyTorch or TensorFlow's custom loops: every op runs
 * eagerly, a {@link GradientTape} records them, {@code tape.gradient} differentiates the loss and
 * {@link Optimizer#step} applies Adam. The model is FashionMnistMlp's; default 2 epochs.
 */
public final class EagerLoop {
    private EagerLoop() {}

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(Stream.concat(Stream.of("--epochs", "2", "--batch", "64"), Stream.of(args)).toArray(String[]::new));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return;
        }
        FashionMnistData.runOrExit(() -> train(o));
    }

    static void train(Options o) {
        FashionMnistData.ensure();
        Dataset train = FashionMnist.train(), test = FashionMnist.test();
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend(o.backend()).build())) {
            Sequential model = FashionMnistMlp.mlp(o.hidden());
            List<Parameter> params = model.parameters();
            Optimizer adam = new Adam(1e-3);
            // Full batches only, so every step has one shape and its gradient graph compiles once.
            DataLoader loader = DataLoader.builder(train, o.batch()).shuffle(true).dropLast(true).seed(1).build();
            System.out.println("backend: " + kiln.backend() + ", eager loop, batch " + o.batch() + ", epochs " + o.epochs());
            for (int epoch = 1; epoch <= o.epochs(); epoch++) {
                long start = System.nanoTime();
                double lossSum = 0;
                int steps = 0;
                for (Batch b : loader.epoch(epoch - 1)) {
                    try (Tensor x = kiln.tensor(Arrays.copyOf(b.features(), b.size() * 784), b.size(), 28, 28);
                         Tensor y = kiln.tensor(Arrays.copyOf(b.labels(), b.size()), b.size())) {
                        List<Tensor> grads;
                        double loss;
                        try (GradientTape tape = kiln.tape()) {
                            Tensor l = model.forward(x).softmaxCrossEntropy(y);
                            loss = l.item();
                            List<Tensor> values = new ArrayList<>();
                            for (Parameter p : params) values.add(p.value(kiln));
                            grads = tape.gradient(l, values);
                        }
                        adam.step(kiln, params, grads);
                        grads.forEach(Tensor::close);
                        lossSum += loss;
                        steps++;
                    }
                }
                System.out.printf("epoch %d: loss %.4f, %.1f s%n", epoch, lossSum / steps, (System.nanoTime() - start) / 1e9);
            }
            model.eval();
            System.out.printf("test accuracy: %.4f%n", accuracy(kiln, model, test));
        }
    }

    /** Fraction of {@code data} whose arg-max logit is the label, evaluated eagerly without a tape. */
    static double accuracy(Kiln kiln, Sequential model, Dataset data) {
        long correct = 0;
        for (Batch b : DataLoader.of(data, 500)) {
            try (Tensor x = kiln.tensor(Arrays.copyOf(b.features(), b.size() * 784), b.size(), 28, 28)) {
                float[] logits = model.forward(x).toFloatArray();
                for (int i = 0; i < b.size(); i++) {
                    int best = 0;
                    for (int c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
                    if (best == b.labels()[i]) correct++;
                }
            }
        }
        return (double) correct / data.size();
    }
}
