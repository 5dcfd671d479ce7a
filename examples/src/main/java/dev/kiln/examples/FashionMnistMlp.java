package dev.kiln.examples;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.ProviderInfo;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.dist.ProcessGroup;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.Evaluation;
import dev.kiln.api.train.History;
import dev.kiln.api.train.ProgressBar;
import dev.kiln.api.train.Trainer;
import dev.kiln.api.train.BatchLogs;
import dev.kiln.api.train.Callback;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The classic first program: Flatten, Linear(784, 128), ReLU, Linear(128, 10), softmax
 * cross-entropy, Adam(1e-3), batch 32, 5 epochs, on Fashion-MNIST, on the best accelerator here.
 */
public final class FashionMnistMlp {
    private FashionMnistMlp() {}

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return;
        }
        FashionMnistData.runOrExit(() -> train(o));
    }

    static void train(Options o) {
        FashionMnistData.ensure();
        // The files are read and decoded on another core while the accelerator's native libraries load.
        CompletableFuture<Dataset[]> data = CompletableFuture.supplyAsync(() -> new Dataset[] {FashionMnist.train(), FashionMnist.test()});
        // The one line data-parallel training needs: under mpirun, torchrun-style variables or srun this
        // process becomes one rank of the job; started alone it is a group of one and nothing changes.
        try (ProcessGroup group = ProcessGroup.fromEnvironment();
             Kiln kiln = Kiln.open(KilnConfig.builder().backend(o.backend()).precision(o.precision()).processGroup(group).build())) {
            Dataset[] read = join(data);
            Dataset train = read[0], test = read[1];
            Sequential model = mlp(o.hidden());
            if (group.isMain()) {
                System.out.println("accelerator plugins:");
                for (ProviderInfo p : Kiln.providers()) System.out.println("  " + p);
                System.out.println("backend: " + kiln.backend() + ", precision: " + kiln.precision().label()
                        + ", batch " + o.batch() + (group.worldSize() > 1 ? " per rank, " + group.worldSize() + " ranks" : "")
                        + ", epochs " + o.epochs());
                System.out.println(model.summary());
            }
            FirstStep first = new FirstStep();
            try (Trainer trainer = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(o.batch())
                    .callback(new ProgressBar()).callback(first).build()) {
                History h = trainer.fit(train, o.epochs());
                if (trainer.isMainProcess()) first.print();
                Evaluation e = trainer.evaluate(test);
                if (trainer.isMainProcess()) {
                    System.out.printf("test accuracy: %.4f  test loss: %.4f%n", e.accuracy(), e.loss());
                    System.out.printf("kiln: %.0f samples/s%s%n", throughput(h), group.worldSize() > 1 ? " over " + group.worldSize() + " ranks" : "");
                }
            }
        }
    }

    /** The datasets, or the read's own exception (a DatasetException names the file and what is wrong with it). */
    private static Dataset[] join(CompletableFuture<Dataset[]> data) {
        try {
            return data.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }

    /** When the first training step ended, for the time a host application waits from JVM start to training. */
    static final class FirstStep implements Callback {
        private long at;
        private boolean seen;

        @Override public void onTrainBatchEnd(BatchLogs logs) {
            if (!seen) {
                seen = true;
                at = System.nanoTime();
            }
        }

        void print() {
            OptionalLong age = ProcessAge.nanos();
            if (seen && age.isPresent()) {
                long sinceFirst = System.nanoTime() - at;
                System.out.printf("JVM start to first training step: %.2f s%n", (age.getAsLong() - sinceFirst) / 1e9);
            }
        }
    }

    /** Flatten, then Linear+ReLU per hidden width, then Linear to the 10 classes. */
    static Sequential mlp(int[] hidden) {
        List<Module> layers = new ArrayList<>();
        layers.add(new Flatten());
        int in = 28 * 28;
        for (int h : hidden) {
            layers.add(new Linear(in, h));
            layers.add(new ReLU());
            in = h;
        }
        layers.add(new Linear(in, 10));
        return Sequential.of(layers.toArray(Module[]::new));
    }

    /** Samples per second over all epochs, compilation included: timed as bench/pytorch_mlp.py times PyTorch. */
    static double throughput(History h) {
        double samples = 0, secs = 0;
        for (EpochLogs l : h.epochs()) {
            samples += l.samplesPerSecond() * l.seconds();
            secs += l.seconds();
        }
        return samples / secs;
    }
}
