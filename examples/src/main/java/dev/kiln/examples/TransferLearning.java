package dev.kiln.examples;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.checkpoint.ModelFile;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Dropout;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.Evaluation;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Transfer learning on Fashion-MNIST. A CNN ({@link FashionMnistCnn#cnn()}) learns the first five
 * classes (t-shirt, trouser, pullover, dress, coat) and is saved as a whole-model file. Its
 * convolutions, loaded back from the file without the code that built them, are then frozen and a
 * new head learns the other five (sandal, shirt, sneaker, bag, ankle boot) from a small sample, 200
 * images per class; the same model trained from scratch on that sample is the comparison. Both are
 * measured on all 5,000 test images of the new classes.
 */
public final class TransferLearning {
    private TransferLearning() {}

    /** The convolutional part of {@link FashionMnistCnn#cnn()}: through Flatten. */
    static final int BACKBONE_LAYERS = 8;

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(Stream.concat(Stream.of("--epochs", "2", "--batch", "64"), Stream.of(args)).toArray(String[]::new));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return;
        }
        FashionMnistData.runOrExit(() -> {
            Result r = run(o, 200);
            System.out.printf("new classes, 200 images each: frozen pretrained convolutions %.4f test accuracy, from scratch %.4f%n",
                    r.transferred(), r.scratch());
        });
    }

    /** Test accuracies on the new classes: the frozen-backbone model's and the from-scratch one's. */
    record Result(double transferred, double scratch, double sourceAccuracy) {}

    static Result run(Options o, int perClass) {
        FashionMnistData.ensure();
        Dataset train = FashionMnist.train(), test = FashionMnist.test();
        Path saved;
        try {
            saved = Files.createTempFile("kiln-transfer-", ".safetensors");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend(o.backend()).precision(o.precision()).build())) {
            System.out.println("backend: " + kiln.backend() + ", batch " + o.batch() + ", epochs " + o.epochs() + " per phase");
            // 1. The source task, saved whole.
            Sequential source = FashionMnistCnn.cnn();
            double sourceAccuracy;
            try (Trainer t = Trainer.builder(kiln, source).optimizer(new Adam(1e-3)).batchSize(o.batch()).build()) {
                t.fit(classes(train, 0, Integer.MAX_VALUE), o.epochs());
                sourceAccuracy = t.evaluate(classes(test, 0, Integer.MAX_VALUE)).accuracy();
                System.out.printf("source task (classes 0-4): %.4f test accuracy%n", sourceAccuracy);
            }
            ModelFile.save(source, kiln, saved);

            // 2. The target task from a small sample: the loaded convolutions frozen, a new head.
            Dataset sample = classes(train, 5, perClass), target = classes(test, 5, Integer.MAX_VALUE);
            Module loaded = ModelFile.load(kiln, saved);
            List<Module> layers = new ArrayList<>(loaded.children().subList(0, BACKBONE_LAYERS));
            Sequential backbone = Sequential.of(layers.toArray(Module[]::new));
            backbone.freeze();
            Sequential transferred = Sequential.of(backbone, head());
            double withBackbone = trainAndTest(kiln, transferred, sample, target, o);

            Sequential scratch = FashionMnistCnn.cnn();
            double fromScratch = trainAndTest(kiln, Sequential.of(Sequential.of(scratch.children().subList(0, BACKBONE_LAYERS).toArray(Module[]::new)), head()),
                    sample, target, o);
            return new Result(withBackbone, fromScratch, sourceAccuracy);
        } finally {
            try {
                Files.deleteIfExists(saved);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
    }

    /** The head for five classes, freshly initialised: what the source model had after Flatten. */
    static Sequential head() { return Sequential.of(new Linear(64 * 7 * 7, 128), new ReLU(), new Dropout(0.3), new Linear(128, 5)); }

    private static double trainAndTest(Kiln kiln, Sequential model, Dataset train, Dataset test, Options o) {
        try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(o.batch()).build()) {
            t.fit(train, o.epochs());
            Evaluation e = t.evaluate(test);
            return e.accuracy();
        }
    }

    /**
     * Classes {@code first..first+4} of {@code data} relabelled 0..4, at most {@code perClass} of
     * each, in the data's order.
     */
    static Dataset classes(Dataset data, int first, int perClass) {
        List<Integer> keep = new ArrayList<>();
        int[] count = new int[5];
        for (int i = 0; i < data.size(); i++) {
            int c = data.label(i) - first;
            if (c >= 0 && c < 5 && count[c] < perClass) {
                count[c]++;
                keep.add(i);
            }
        }
        int[] idx = keep.stream().mapToInt(Integer::intValue).toArray();
        Dataset picked = data.subset(idx);
        return new Dataset() {
            @Override public int size() { return picked.size(); }

            @Override public Shape exampleShape() { return picked.exampleShape(); }

            @Override public int numClasses() { return 5; }

            @Override public void features(int index, float[] dst, int offset) { picked.features(index, dst, offset); }

            @Override public int label(int index) { return picked.label(index) - first; }
        };
    }
}
