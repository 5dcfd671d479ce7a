package dev.kiln.bench;

import dev.kiln.api.Kiln;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.Callback;
import dev.kiln.api.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs the seed step (784-128-10, Adam, batch 32) for 10,000 steps and prints the process's
 * resident memory at step 1,000 and step 10,000: a compiled step that leaks shows it here.
 */
public final class RssSoak {
    private RssSoak() {}

    public static void main(String[] args) {
        long total = args.length > 0 ? Long.parseLong(args[0]) : 10_000;
        try (Kiln kiln = Kiln.open()) {
            Sequential model = Sequential.of(new Flatten(), new Linear(784, 128), new ReLU(), new Linear(128, 10));
            Trainer[] holder = new Trainer[1];
            Callback probe = new Callback() {
                @Override public void onBatchEnd(int step, int steps, double loss, double acc, long samples, double seconds) {
                    long s = holder[0].steps();
                    if (s == 1_000 || s == total || s % 2_500 == 0) System.out.printf("step %,6d  rss %,d KiB  loss %.4f%n", s, rssKib(), loss);
                    if (s >= total) holder[0].stop();
                }
            };
            try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(32).callback(probe).build()) {
                holder[0] = t;
                t.fit(FashionMnist.train(), (int) (total * 32 / 60_000 + 1));
            }
        }
    }

    static long rssKib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }
}
