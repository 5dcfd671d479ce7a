package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Dropout;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.SGD;
import dev.kiln.api.train.Evaluation;
import dev.kiln.api.train.History;
import dev.kiln.api.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The seed's MLP trained through the SPI alone, on the pure-Java test plugin. */
class TrainingTest {
    private static void assumeData() {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")) || System.getenv("KILN_DATASETS") != null,
                "Fashion-MNIST is not installed: sudo apt-get install dataset-fashion-mnist");
    }

    @Test void theSeedMlpLearnsFashionMnistOnTheJavaTestPlugin() {
        assumeData();
        Dataset train = FashionMnist.train().subset(IntStream.range(0, 3000).toArray());
        Dataset test = FashionMnist.test().subset(IntStream.range(0, 1000).toArray());
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build())) {
            Sequential model = Sequential.of(new Flatten(), new Linear(784, 128), new ReLU(), new Linear(128, 10));
            try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(32).build()) {
                History h = t.fit(train, 2);
                Evaluation e = t.evaluate(test);
                assertTrue(h.last().loss() < h.epochs().getFirst().loss(), "loss should fall: " + h);
                assertTrue(e.accuracy() > 0.70, "test accuracy after 2 epochs on 3000 examples: " + e);
            }
        }
    }

    @Test void sgdWithMomentumAndDropoutAlsoLearn() {
        assumeData();
        Dataset train = FashionMnist.train().subset(IntStream.range(0, 2000).toArray());
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build())) {
            Sequential model = Sequential.of(new Flatten(), new Linear(784, 64), new ReLU(), new Dropout(0.2), new Linear(64, 10));
            try (Trainer t = Trainer.builder(kiln, model).optimizer(new SGD(0.05, 0.9)).batchSize(50).build()) {
                History h = t.fit(train, 2);
                assertTrue(h.last().loss() < h.epochs().getFirst().loss(), "loss should fall: " + h);
                assertTrue(h.last().accuracy() > 0.6, "training accuracy: " + h.last());
            }
        }
    }
}
