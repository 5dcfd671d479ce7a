package dev.kiln.examples;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Conv2d;
import dev.kiln.api.nn.Dropout;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.MaxPool2d;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Reshape;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.Evaluation;
import dev.kiln.api.train.History;
import dev.kiln.api.train.ProgressBar;
import dev.kiln.api.train.Trainer;
import java.util.stream.Stream;

/**
 * A small CNN on Fashion-MNIST, the "2 Conv + pooling" row of the dataset's benchmark table:
 * two blocks of 3x3 convolution, ReLU and 2x2 max pooling (32 then 64 channels), then a dense
 * head of 128 units with dropout. Adam(1e-3), batch 64, 10 epochs by default; the options are
 * FashionMnistMlp's.
 */
public final class FashionMnistCnn {
    private FashionMnistCnn() {}

    public static void main(String[] args) {
        Options o;
        try {
            // This example's defaults come first, so the user's options override them.
            o = Options.parse(Stream.concat(Stream.of("--epochs", "10", "--batch", "64"), Stream.of(args)).toArray(String[]::new));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return;
        }
        FashionMnistData.runOrExit(() -> train(o));
    }

    static void train(Options o) {
        FashionMnistData.ensure();
        Dataset train = FashionMnist.train(), test = FashionMnist.test();
        KilnConfig config = KilnConfig.builder().backend(o.backend()).precision(o.precision()).build();
        try (Kiln kiln = Kiln.open(config)) {
            Sequential model = cnn();
            System.out.println("backend: " + kiln.backend() + ", batch " + o.batch() + ", epochs " + o.epochs());
            System.out.println(model.summary(kiln, o.batch(), 28, 28));
            long start = System.nanoTime();
            try (Trainer trainer = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(o.batch())
                    .callback(new ProgressBar()).build()) {
                History h = trainer.fit(train, o.epochs());
                Evaluation e = trainer.evaluate(test);
                System.out.printf("test accuracy: %.4f  test loss: %.4f%n", e.accuracy(), e.loss());
                System.out.printf("wall time: %.1f s for %d epochs and the test pass%n", (System.nanoTime() - start) / 1e9, o.epochs());
                System.out.printf("kiln: %.0f samples/s%n", FashionMnistMlp.throughput(h));
            }
        }
    }

    static Sequential cnn() {
        return Sequential.of(
                new Reshape(1, 28, 28),
                new Conv2d(1, 32, 3, 1, 1), new ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 1), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(64 * 7 * 7, 128), new ReLU(), new Dropout(0.3), new Linear(128, 10));
    }
}
