package dev.kiln.examples.safety;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child JVM of {@link ConcurrencyStressTest}: hammers one {@link Kiln} from several threads
 * — eager ops, gradient tapes, two trainers, tensors closed under readers, the Kiln closed under
 * everything — and checks that every call either returns what a single-threaded run returns or
 * throws a clear {@link IllegalStateException}. A JVM crash shows as the exit status; a wrong
 * result or an unexpected exception as {@code FAIL} lines and status 1; success prints
 * {@code OK} with the counts.
 */
public final class StressRun {
    static final int EAGER_THREADS = 4, SETS = 8, TRAIN_EXAMPLES = 256, BATCH = 32, EPOCHS = 3;

    private final int iterations, closeRounds;
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicLong eagerOk = new AtomicLong(), refused = new AtomicLong(), closedReads = new AtomicLong();
    private final AtomicLong trainersOk = new AtomicLong(), trainerRefusals = new AtomicLong();

    private StressRun(int iterations, int closeRounds) {
        this.iterations = iterations;
        this.closeRounds = closeRounds;
    }

    public static void main(String[] args) throws Exception {
        StressRun run = new StressRun(Integer.parseInt(args[0]), Integer.parseInt(args[1]));
        run.runAll();
        if (!run.failures.isEmpty()) {
            run.failures.stream().limit(20).forEach(f -> System.out.println("FAIL " + f));
            System.out.println("FAILURES " + run.failures.size());
            System.exit(1);
        }
        System.out.printf("OK eager=%d refused=%d closedReads=%d trainers=%d trainerRefusals=%d%n",
                run.eagerOk.get(), run.refused.get(), run.closedReads.get(), run.trainersOk.get(), run.trainerRefusals.get());
    }

    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("onednn").seed(7).build()); }

    // ---- what single-threaded runs give ----

    /** Host inputs of eager work set {@code k}: x [16, 24], w [24, 12], b [12]. */
    private static float[][] inputs(int k) {
        SplittableRandom r = new SplittableRandom(100 + k);
        float[][] in = {new float[16 * 24], new float[24 * 12], new float[12]};
        for (float[] a : in) for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return in;
    }

    /** One unit of eager work: a forward pass, a reduction and a gradient through a tape. */
    private static float[] eagerWork(Kiln kiln, Tensor x, Tensor w, Tensor b) {
        try (GradientTape tape = kiln.tape()) {
            Tensor h = x.matmul(w).add(b).relu();
            Tensor p = h.softmax(1);
            Tensor loss = p.mul(h).sum();
            List<Tensor> g = tape.gradient(loss, List.of(w));
            float[] a = p.toFloatArray(), c = g.getFirst().toFloatArray();
            float[] out = Arrays.copyOf(a, a.length + c.length + 1);
            System.arraycopy(c, 0, out, a.length, c.length);
            out[out.length - 1] = (float) loss.item();
            for (Tensor t : List.of(h, p, loss, g.getFirst())) t.close();
            return out;
        }
    }

    private static Dataset data(int which) {
        SplittableRandom r = new SplittableRandom(which);
        float[] x = new float[TRAIN_EXAMPLES * 20];
        int[] y = new int[TRAIN_EXAMPLES];
        for (int i = 0; i < TRAIN_EXAMPLES; i++) {
            y[i] = r.nextInt(5);
            for (int j = 0; j < 20; j++) x[i * 20 + j] = (float) (r.nextDouble() + (j % 5 == y[i] ? 1 : 0));
        }
        return new InMemoryDataset(x, y, Shape.of(20), 5);
    }

    private static Module model(Kiln kiln) {
        Module m = Sequential.of(new Linear(20, 32), new ReLU(), new Linear(32, 5));
        // Initialise on this thread now: initialisation draws from the Kiln's random stream, whose order must not depend on scheduling.
        for (Parameter p : m.parameters()) p.value(kiln);
        return m;
    }

    private static Trainer trainer(Kiln kiln, Module m) {
        return Trainer.builder(kiln, m).optimizer(new Adam(1e-2)).batchSize(BATCH).seed(3).build();
    }

    private static float[] params(Kiln kiln, Module m) {
        List<float[]> parts = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) parts.add(e.getValue().value(kiln).toFloatArray());
        int n = parts.stream().mapToInt(a -> a.length).sum(), at = 0;
        float[] all = new float[n];
        for (float[] a : parts) {
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        return all;
    }

    // ---- the runs ----

    private void runAll() throws Exception {
        float[][] eagerRef = new float[SETS][];
        float[][] trainRef = new float[2][];
        try (Kiln kiln = open()) {
            for (int k = 0; k < SETS; k++) {
                float[][] in = inputs(k);
                Tensor x = kiln.tensor(in[0], 16, 24), w = kiln.tensor(in[1], 24, 12), b = kiln.tensor(in[2], 12);
                eagerRef[k] = eagerWork(kiln, x, w, b);
            }
            for (int t = 0; t < 2; t++) {
                Module m = model(kiln);
                try (Trainer tr = trainer(kiln, m)) {
                    tr.fit(data(t), EPOCHS);
                }
                trainRef[t] = params(kiln, m);
            }
        }
        concurrent(eagerRef, trainRef);
        for (int round = 0; round < closeRounds; round++) closeUnderLoad(eagerRef, round);
    }

    /** Eager threads, two trainers and a tensor closer on one Kiln; everything must match the references. */
    private void concurrent(float[][] eagerRef, float[][] trainRef) throws Exception {
        try (Kiln kiln = open()) {
            Tensor[][] shared = sharedInputs(kiln);
            // Victims: copies of set 0 that a closer thread frees while the eager threads read them.
            Tensor[][] victims = new Tensor[iterations / 10][];
            for (int i = 0; i < victims.length; i++) victims[i] = upload(kiln, inputs(0));
            Module m0 = model(kiln), m1 = model(kiln);
            // Reference models were made in this order on a fresh Kiln, after the eager sets' uploads (which draw nothing).
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < EAGER_THREADS; t++) {
                int id = t;
                threads.add(Thread.ofPlatform().name("eager-" + t).unstarted(() -> {
                    await(start);
                    SplittableRandom r = new SplittableRandom(id);
                    for (int i = 0; i < iterations; i++) {
                        boolean victim = i % 10 == 0 && i / 10 < victims.length;
                        int k = victim ? 0 : r.nextInt(SETS);
                        Tensor[] in = victim ? victims[i / 10] : shared[k];
                        try {
                            check(eagerWork(kiln, in[0], in[1], in[2]), eagerRef[k], "eager set " + k);
                        } catch (IllegalStateException e) {
                            if (victim && e.getMessage() != null && e.getMessage().contains("is closed")) closedReads.incrementAndGet();
                            else failures.add("eager thread " + id + " iteration " + i + ": " + e);
                        } catch (RuntimeException e) {
                            failures.add("eager thread " + id + " iteration " + i + ": " + e);
                        }
                    }
                }));
            }
            threads.add(Thread.ofPlatform().name("closer").unstarted(() -> {
                await(start);
                for (Tensor[] v : victims) {
                    Thread.onSpinWait();
                    for (Tensor t : v) t.close();
                    try {
                        Thread.sleep(0, 200_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
            Module[] models = {m0, m1};
            Trainer[] trainers = {trainer(kiln, m0), trainer(kiln, m1)};
            for (int t = 0; t < 2; t++) {
                int id = t;
                threads.add(Thread.ofPlatform().name("trainer-" + t).unstarted(() -> {
                    await(start);
                    try {
                        trainers[id].fit(data(id), EPOCHS);
                        trainersOk.incrementAndGet();
                    } catch (RuntimeException e) {
                        failures.add("trainer " + id + ": " + e);
                    }
                }));
            }
            threads.forEach(Thread::start);
            start.countDown();
            // A second loop on a running trainer must be refused at once.
            while (trainers[0].steps() == 0 && threads.get(EAGER_THREADS + 1).isAlive()) Thread.onSpinWait();
            try {
                trainers[0].evaluate(data(0));
                if (threads.get(EAGER_THREADS + 1).isAlive()) failures.add("a second loop on a running trainer was not refused");
            } catch (IllegalStateException e) {
                if (e.getMessage().contains("already running")) trainerRefusals.incrementAndGet();
                else failures.add("second loop: " + e);
            }
            for (Thread t : threads) t.join();
            for (int t = 0; t < 2; t++) {
                check(params(kiln, models[t]), trainRef[t], "trainer " + t + " parameters");
                trainers[t].close();
            }
            try {
                trainers[0].fit(data(0), EPOCHS + 1);
                failures.add("a closed trainer ran fit");
            } catch (IllegalStateException e) {
                trainerRefusals.incrementAndGet();
            }
        }
    }

    /** Eager threads and two trainers running when another thread closes the Kiln. */
    private void closeUnderLoad(float[][] eagerRef, int round) throws Exception {
        Kiln kiln = open();
        Tensor[][] shared = sharedInputs(kiln);
        Trainer[] trainers = {trainer(kiln, model(kiln)), trainer(kiln, model(kiln))};
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < EAGER_THREADS; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().name("eager-" + t).unstarted(() -> {
                await(start);
                SplittableRandom r = new SplittableRandom(round * 31L + id);
                for (int i = 0; ; i++) {
                    int k = r.nextInt(SETS);
                    try {
                        check(eagerWork(kiln, shared[k][0], shared[k][1], shared[k][2]), eagerRef[k], "eager set " + k + " before close");
                    } catch (IllegalStateException e) {
                        if (e.getMessage() != null && e.getMessage().contains("is closed")) {
                            refused.incrementAndGet();
                            return;
                        }
                        failures.add("round " + round + " eager thread " + id + ": " + e);
                        return;
                    } catch (RuntimeException e) {
                        failures.add("round " + round + " eager thread " + id + ": " + e);
                        return;
                    }
                }
            }));
        }
        for (int t = 0; t < 2; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().name("trainer-" + t).unstarted(() -> {
                await(start);
                try {
                    trainers[id].fit(data(id), 1000);
                    failures.add("round " + round + " trainer " + id + " finished 1000 epochs before the close");
                } catch (IllegalStateException e) {
                    if (e.getMessage() != null && e.getMessage().contains("is closed")) refused.incrementAndGet();
                    else failures.add("round " + round + " trainer " + id + ": " + e);
                } catch (RuntimeException e) {
                    failures.add("round " + round + " trainer " + id + ": " + e);
                } finally {
                    trainers[id].close();
                }
            }));
        }
        threads.forEach(Thread::start);
        start.countDown();
        Thread.sleep(20 + new SplittableRandom(round).nextInt(80));
        kiln.close();
        for (Thread t : threads) t.join();
    }

    private static Tensor[][] sharedInputs(Kiln kiln) {
        Tensor[][] shared = new Tensor[SETS][];
        for (int k = 0; k < SETS; k++) shared[k] = upload(kiln, inputs(k));
        return shared;
    }

    private static Tensor[] upload(Kiln kiln, float[][] in) {
        return new Tensor[] {kiln.tensor(in[0], 16, 24), kiln.tensor(in[1], 24, 12), kiln.tensor(in[2], 12)};
    }

    private void check(float[] got, float[] want, String what) {
        if (!Arrays.equals(got, want)) {
            int i = Arrays.mismatch(got, want);
            failures.add(what + " differs from the single-threaded run at " + i + ": "
                    + (i < got.length ? got[i] : "end") + " vs " + (i < want.length ? want[i] : "end"));
        } else {
            eagerOk.incrementAndGet();
        }
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
