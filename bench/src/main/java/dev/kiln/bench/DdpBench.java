package dev.kiln.bench;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.dist.ProcessGroup;
import dev.kiln.api.nn.Flatten;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.SGD;
import dev.kiln.api.train.Callback;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.History;
import dev.kiln.api.train.Trainer;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One rank of {@code bench/ddp.sh} (or the single process, started without a launcher), and the
 * script's arithmetic. A rank: the wide MLP (784-1024-1024-10, Adam(1e-3)) with one oneDNN thread
 * ({@code KilnConfig.threads(1)}), trained by {@link Trainer#fit} on the first
 * {@code batch x ranks x steps} Fashion-MNIST training images, so that every epoch is exactly
 * {@code --steps} steps on every rank (DistributedSampler sharding: rank r takes positions r, r+W,
 * ... of each epoch's permutation, so the ranks' batches of a step are together the single
 * process's batch of twice the size).
 *
 * <pre>
 * DdpBench --out DIR [--batch 256] [--steps 50] [--warmup-epochs 1] [--epochs 3] [--params true]
 *          [--optimizer adam|sgd] [--accumulation 1]     (diagnostics; ddp.sh uses neither)
 * DdpBench --summarize WORK
 * </pre>
 *
 * The first {@code --warmup-epochs} epochs (JIT, compilation, oneDNN's first calls, the rank-0
 * broadcast) are not measured. Each rank writes {@code DIR/rank-R.tsv}: the global samples/s of
 * each measured epoch (the trainer sums the examples over the ranks), then per measured step its
 * wall time as the training loop sees it (callback to callback), the growth of
 * {@link Trainer#gradientSyncSeconds()} over it (the time this rank spent in gradient
 * all-reduces) and this rank's loss on its batch. With {@code --params true} every parameter goes to {@code DIR/rank-R.bin}
 * (big-endian float32, model order) after training.
 *
 * <p>{@code --summarize WORK} reads the runs {@code ddp.sh} leaves in {@code WORK} ({@code one-*}
 * and {@code two-*} throughput runs, {@code parity-one} and {@code parity-two}, and
 * {@code allreduce.txt} from {@code bench/ddp/allreduce.c}) and prints the script's result lines.
 */
public final class DdpBench {
    private DdpBench() {}

    public static void main(String[] args) throws IOException {
        if (args.length == 2 && args[0].equals("--summarize")) {
            DdpSummary.print(Path.of(args[1]));
            return;
        }
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("expected --name value pairs, got " + Arrays.toString(args));
            a.put(args[i].substring(2), args[i + 1]);
        }
        Path out = Path.of(a.getOrDefault("out", "."));
        int batch = Integer.parseInt(a.getOrDefault("batch", "256"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "50"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup-epochs", "1"));
        int epochs = Integer.parseInt(a.getOrDefault("epochs", "3"));
        boolean params = Boolean.parseBoolean(a.getOrDefault("params", "false"));
        // Diagnostics, not used by ddp.sh: SGD instead of Adam, and gradient accumulation (the split step in one process).
        String optimizer = a.getOrDefault("optimizer", "adam");
        int accumulation = Integer.parseInt(a.getOrDefault("accumulation", "1"));
        try (ProcessGroup group = ProcessGroup.fromEnvironment();
             Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").threads(1).processGroup(group).build())) {
            int world = group.worldSize(), rank = group.rank();
            int examples = batch * world * steps;
            int[] idx = new int[examples];
            for (int i = 0; i < examples; i++) idx[i] = i;
            Dataset data = FashionMnist.train().subset(idx);
            Sequential model = Sequential.of(new Flatten(), new Linear(784, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 10));
            StepClock clock = new StepClock(warmup);
            try (Trainer trainer = Trainer.builder(kiln, model).optimizer(optimizer.equals("sgd") ? new SGD(0.05, 0.9) : new Adam(1e-3))
                    .batchSize(batch).seed(7).gradientAccumulation(accumulation).callback(clock).build()) {
                History h = trainer.fit(data, warmup + epochs);
                long expected = (long) ((steps + accumulation - 1) / accumulation) * (warmup + epochs);
                if (trainer.steps() != expected) throw new IllegalStateException("expected " + expected + " steps, trained " + trainer.steps());
                Files.createDirectories(out);
                StringBuilder tsv = new StringBuilder(String.format(Locale.ROOT, "world\t%d\tbatch\t%d\tsteps\t%d%n", world, batch, steps));
                for (EpochLogs l : h.epochs().subList(warmup, h.epochs().size())) {
                    tsv.append(String.format(Locale.ROOT, "epoch\t%d\t%.3f%n", l.epoch(), l.samplesPerSecond()));
                }
                for (int i = 0; i < clock.stepNanos.size(); i++) {
                    tsv.append(String.format(Locale.ROOT, "step\t%d\t%d\t%.9g%n", clock.stepNanos.get(i), clock.syncNanos.get(i), clock.losses.get(i)));
                }
                Files.writeString(out.resolve("rank-" + rank + ".tsv"), tsv);
                if (params) write(out.resolve("rank-" + rank + ".bin"), model, kiln);
                // One print per rank, so mpirun's merged output keeps each line whole.
                System.out.print(String.format(Locale.ROOT, "rank %d of %d, batch %d: %.0f samples/s (last epoch, all ranks), step %.2f ms, all-reduce %.2f ms (medians)%n",
                        rank, world, batch, h.last().samplesPerSecond(), median(clock.stepNanos) / 1e6, median(clock.syncNanos) / 1e6));
                System.out.flush();
            }
        }
    }

    /** Per-step wall time and all-reduce time after the warm-up epochs, on this rank. */
    private static final class StepClock implements Callback {
        private final int warmup;
        private Trainer trainer;
        private int epoch;
        private long last, lastSync;
        final List<Long> stepNanos = new ArrayList<>(), syncNanos = new ArrayList<>();
        /** This rank's loss of each measured step, from the epoch's running mean. */
        final List<Double> losses = new ArrayList<>();
        private double lossSum;
        private long seen;

        StepClock(int warmup) { this.warmup = warmup; }

        @Override public void onTrainBegin(Trainer t, int epochs) { trainer = t; }

        @Override public void onEpochBegin(int e, int epochs, int steps) {
            epoch = e;
            last = System.nanoTime();
            lastSync = syncNanos();
            lossSum = 0;
            seen = 0;
        }

        @Override public void onBatchEnd(int step, int steps, double loss, double acc, long samples, double secs) {
            long now = System.nanoTime(), sync = syncNanos();
            double sumNow = loss * samples;
            if (epoch > warmup) {
                stepNanos.add(now - last);
                syncNanos.add(sync - lastSync);
                losses.add((sumNow - lossSum) / (samples - seen));
            }
            lossSum = sumNow;
            seen = samples;
            last = now;
            lastSync = sync;
        }

        private long syncNanos() { return Math.round(trainer.gradientSyncSeconds() * 1e9); }
    }

    static double median(List<Long> v) {
        if (v.isEmpty()) return Double.NaN;
        long[] s = v.stream().mapToLong(Long::longValue).sorted().toArray();
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    }

    private static void write(Path file, Sequential model, Kiln kiln) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (DataOutputStream d = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(file)))) {
            for (Parameter p : model.parameters()) for (float f : p.value(kiln).toFloatArray()) d.writeFloat(f);
        }
    }
}
