package dev.kiln.examples.resume;

import dev.kiln.api.Kiln;
import dev.kiln.api.checkpoint.AtomicFiles;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.DatasetException;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Dropout;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.LrSchedule;
import dev.kiln.api.train.Callback;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The run the kill-and-resume test interrupts, shared by the test and the child JVM it kills:
 * an MLP with dropout, AdamW with warm-up and cosine decay, gradient clipping, on 320
 * Fashion-MNIST images (synthetic 28x28 data where the set is not installed). 10 steps per epoch.
 *
 * <p>As a program: {@code ResumeRun CHECKPOINT STEP} trains, saves at global step STEP, prints
 * {@code SAVED}, starts overwriting the checkpoint, prints {@code WRITING} half-way through and
 * waits there to be killed.
 */
public final class ResumeRun {
    static final int EPOCHS = 3, BATCH = 32, EXAMPLES = 320;

    private ResumeRun() {}

    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("onednn").threads(2).seed(21).build()); }

    private static Dataset data;

    static synchronized Dataset data() {
        if (data == null) data = load();
        return data;
    }

    private static Dataset load() {
        try {
            return FashionMnist.train().subset(IntStream.range(0, EXAMPLES).toArray());
        } catch (DatasetException e) {
            SplittableRandom r = new SplittableRandom(5);
            float[] x = new float[EXAMPLES * 784];
            int[] y = new int[EXAMPLES];
            for (int i = 0; i < EXAMPLES; i++) {
                y[i] = i % 10;
                for (int j = 0; j < 784; j++) x[i * 784 + j] = (float) (r.nextDouble() * 0.5 + (j % 10 == y[i] ? 0.5 : 0));
            }
            return new InMemoryDataset(x, y, Shape.of(28, 28), 10);
        }
    }

    static Trainer trainer(Kiln kiln, Callback... callbacks) {
        Sequential model = Sequential.of(new Flatten(), new Linear(784, 64), new ReLU(), new Dropout(0.25), new Linear(64, 10));
        var opt = Adam.adamW(1e-3, 0.01).schedule(LrSchedule.linearWarmup(5, LrSchedule.cosine(3e-3, 25, 1e-4))).clipGradNorm(1.0);
        Trainer.Builder b = Trainer.builder(kiln, model).optimizer(opt).batchSize(BATCH).seed(13);
        for (Callback c : callbacks) b.callback(c);
        return b.build();
    }

    private static void waitForKill() {
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Runtime.getRuntime().halt(3);
            }
        }
    }

    public static void main(String[] args) {
        Path ckpt = Path.of(args[0]);
        long saveAt = Long.parseLong(args[1]);
        Kiln kiln = open();
        Trainer[] t = new Trainer[1];
        t[0] = trainer(kiln, new Callback() {
            @Override public void onBatchEnd(int step, int steps, double loss, double acc, long samples, double seconds) {
                if (t[0].steps() != saveAt) return;
                t[0].save(ckpt);
                System.out.println("SAVED " + saveAt);
                // Start writing the next checkpoint and die half-way: the parent's SIGKILL lands
                // mid-save, with nothing closed or flushed, as in a real crash.
                try {
                    AtomicFiles.write(ckpt, ch -> {
                        ch.write(ByteBuffer.wrap(Files.readAllBytes(ckpt), 0, 64));
                        ch.force(true);
                        System.out.println("WRITING");
                        System.out.flush();
                        waitForKill();
                    });
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
        t[0].fit(data(), EPOCHS);
        System.out.println("NOT SAVED: the run ended before step " + saveAt);
        Runtime.getRuntime().halt(2);
    }
}
