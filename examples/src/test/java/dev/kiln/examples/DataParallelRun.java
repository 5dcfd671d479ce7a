package dev.kiln.examples;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.dist.ProcessGroup;
import dev.kiln.api.dist.ProcessGroupException;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.SGD;
import dev.kiln.api.train.Callback;
import dev.kiln.api.train.Trainer;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * One rank of a test job (or the single-process reference): the seed MLP, Adam, on the first
 * {@code --examples} Fashion-MNIST training images, then every parameter written to
 * {@code --out/rank-<r>.bin}. Faults are injected by rank 1 at batch {@code --at}: {@code kill}
 * sends itself SIGKILL, {@code stop} SIGSTOP. Prints {@code DONE rank r steps s} or
 * {@code FAILED rank r: message} (exit 3).
 */
public final class DataParallelRun {
    private DataParallelRun() {}

    public static void main(String[] args) throws IOException {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].substring(2), args[i + 1]);
        Path out = Path.of(a.get("out"));
        int examples = Integer.parseInt(a.getOrDefault("examples", "3200"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "32"));
        int epochs = Integer.parseInt(a.getOrDefault("epochs", "1"));
        int accumulation = Integer.parseInt(a.getOrDefault("accumulation", "1"));
        String fault = a.getOrDefault("fault", "none");
        int at = Integer.parseInt(a.getOrDefault("at", "10"));
        Duration timeout = Duration.ofSeconds(Long.parseLong(a.getOrDefault("timeout-s", "600")));
        int rank = -1;
        try (ProcessGroup group = ProcessGroup.builder().collectiveTimeout(timeout).build();
             Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").threads(1).processGroup(group).build())) {
            rank = group.rank();
            int[] idx = new int[examples];
            for (int i = 0; i < examples; i++) idx[i] = i;
            Dataset data = FashionMnist.train().subset(idx);
            Sequential model = FashionMnistMlp.mlp(new int[] {128});
            boolean faulty = group.rank() == 1 && !fault.equals("none");
            Trainer.Builder b = Trainer.builder(kiln, model)
                    .optimizer(a.getOrDefault("optimizer", "adam").equals("sgd") ? new SGD(0.05, 0.9) : new Adam(1e-3)).batchSize(batch).seed(7).gradientAccumulation(accumulation);
            if (faulty) b.callback(new Callback() {
                @Override public void onBatchEnd(int step, int steps, double loss, double acc, long samples, double secs) {
                    if (step == at) signalSelf(fault.equals("kill") ? "-KILL" : "-STOP");
                }
            });
            try (Trainer trainer = b.build()) {
                if (a.containsKey("restore")) trainer.restore(Path.of(a.get("restore")));
                trainer.fit(data, epochs);
                if (a.containsKey("save")) trainer.save(Path.of(a.get("save")));
                write(out.resolve("rank-" + group.rank() + ".bin"), model, kiln);
                System.out.println("DONE rank " + group.rank() + " steps " + trainer.steps());
            }
        } catch (ProcessGroupException e) {
            System.out.println("FAILED rank " + rank + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.out.flush();
            // The collective may still be blocked in MPI: leave without waiting for it.
            Runtime.getRuntime().halt(3);
        }
    }

    private static void signalSelf(String signal) {
        try {
            new ProcessBuilder("kill", signal, Long.toString(ProcessHandle.current().pid())).inheritIO().start().waitFor();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every parameter as float32, in the model's order. */
    static void write(Path file, Sequential model, Kiln kiln) throws IOException {
        Files.createDirectories(file.getParent());
        try (DataOutputStream d = new DataOutputStream(Files.newOutputStream(file))) {
            for (Parameter p : model.parameters()) for (float f : p.value(kiln).toFloatArray()) d.writeFloat(f);
        }
    }
}
