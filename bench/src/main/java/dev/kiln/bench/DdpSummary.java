package dev.kiln.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** The result lines of {@code bench/ddp.sh}, from the runs {@link DdpBench} left in one work directory. */
final class DdpSummary {
    private DdpSummary() {}

    /** One rank's measured epochs (global samples/s) and steps (wall and all-reduce nanoseconds). */
    private record Rank(int world, int batch, int steps, List<Double> sps, List<Long> stepNs, List<Long> syncNs) {
        static Rank read(Path tsv) throws IOException {
            List<String> lines = Files.readAllLines(tsv);
            String[] h = lines.getFirst().split("\t");
            List<Double> sps = new ArrayList<>();
            List<Long> step = new ArrayList<>(), sync = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split("\t");
                if (f[0].equals("epoch")) sps.add(Double.parseDouble(f[2]));
                else if (f[0].equals("step")) {
                    step.add(Long.parseLong(f[1]));
                    sync.add(Long.parseLong(f[2]));
                }
            }
            return new Rank(Integer.parseInt(h[1]), Integer.parseInt(h[3]), Integer.parseInt(h[5]), sps, step, sync);
        }
    }

    /** All throughput runs of one world size: every measured epoch and step, pooled. */
    private record Pool(int runs, int world, int batch, int steps, List<Double> sps, List<Double> perRun, List<Double> perRunStepMs,
                        List<Long> stepNs, List<Long> syncNs, List<Long> syncMinNs) {}

    static void print(Path work) throws IOException {
        Pool one = pool(work, "one-", false), two = pool(work, "two-", false), ind = pool(work, "ind-", true);
        if (one != null) System.out.printf(Locale.ROOT, "ranks 1: %.0f samples/s%n", medianD(one.sps()));
        else System.out.println("ranks 1: n/a samples/s");
        if (one != null) describe(one);
        if (two != null) System.out.printf(Locale.ROOT, "ranks 2: %.0f samples/s%n", medianD(two.sps()));
        else System.out.println("ranks 2: n/a samples/s");
        if (two != null) describe(two);
        if (one != null && two != null) {
            System.out.printf(Locale.ROOT, "scaling: %.2f%n", medianD(two.sps()) / medianD(one.sps()));
            StringBuilder r = new StringBuilder();
            for (int i = 0; i < Math.min(one.runs(), two.runs()); i++) {
                r.append(r.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", two.perRun().get(i) / one.perRun().get(i)));
            }
            System.out.printf(Locale.ROOT, "  per round (a 1-process run, then a 2-rank run): %s%n", r);
            if (ind != null) {
                System.out.printf(Locale.ROOT, "  without communication: 2 independent single processes run together reach %.0f samples/s, %.2f x one%n"
                        + "  (median step %.2f ms against %.2f ms alone): the ceiling the shared machine leaves; 2 ranks reach %.0f%% of it%n",
                        medianD(ind.sps()), medianD(ind.sps()) / medianD(one.sps()), DdpBench.median(ind.stepNs()) / 1e6,
                        DdpBench.median(one.stepNs()) / 1e6, 100 * medianD(two.sps()) / medianD(ind.sps()));
            }
        } else {
            System.out.println("scaling: n/a");
        }

        parity(work);

        Raw raw = Raw.read(work);
        double t1 = one == null ? Double.NaN : DdpBench.median(one.stepNs()) / 1e6;
        double t2 = two == null ? Double.NaN : DdpBench.median(two.stepNs()) / 1e6;
        double sync = two == null ? Double.NaN : DdpBench.median(two.syncNs()) / 1e6;
        double syncMin = two == null ? Double.NaN : DdpBench.median(two.syncMinNs()) / 1e6;
        if (raw != null) {
            System.out.printf(Locale.ROOT, "all-reduce per step: %.2f ms in the step, %.2f ms raw MPI_Allreduce of %.2f MB (ratio %.2f)%n",
                    sync, raw.medianUs() / 1e3, raw.bytes() / 1e6, sync / (raw.medianUs() / 1e3));
            System.out.printf(Locale.ROOT, "  in the step: median over steps of the growth of Trainer.gradientSyncSeconds(), mean of the 2 ranks;%n"
                    + "  the rank that arrived last spent %.2f ms (ratio %.2f), the rest is the earlier rank waiting for it.%n"
                    + "  raw: bench/ddp/allreduce.c, MPI_IN_PLACE float sum of %d floats (%d bytes, the wide MLP's gradients), 2 ranks, %s%n",
                    syncMin, syncMin / (raw.medianUs() / 1e3), raw.floats(), raw.bytes(), raw.how());
        } else {
            System.out.printf(Locale.ROOT, "all-reduce per step: %.2f ms in the step, n/a raw MPI_Allreduce (see above)%n", sync);
        }
        if (one != null && two != null) {
            // The 2-rank step without its all-reduce is at least what 2 processes take side by side without
            // communicating (ind-*), else what 1 process takes alone; paired by round, median of the rounds.
            Pool base = ind != null ? ind : one;
            List<Double> exposedPerRound = new ArrayList<>(), exposedVsOne = new ArrayList<>();
            for (int i = 0; i < Math.min(base.runs(), two.runs()); i++) exposedPerRound.add(two.perRunStepMs().get(i) - base.perRunStepMs().get(i));
            for (int i = 0; i < Math.min(one.runs(), two.runs()); i++) exposedVsOne.add(two.perRunStepMs().get(i) - one.perRunStepMs().get(i));
            double exposed = medianD(exposedPerRound);
            double hidden = Math.max(0, Math.min(1, (sync - exposed) / sync));
            double hiddenVsOne = Math.max(0, Math.min(1, (sync - medianD(exposedVsOne)) / sync));
            System.out.printf(Locale.ROOT, "hidden behind backward: %.0f%%%n"
                    + "  1 - exposed / all-reduce, clamped to [0, 1], with exposed = 2-rank step - %s step = %.2f ms%n"
                    + "  (per round: %s ms) against %.2f ms of all-reduce in the step; against 1 process alone (%.2f ms) it is %.0f%%.%n"
                    + "  By construction it is 0: the step's backward is one executable and the all-reduce runs after it, before the update.%n",
                    100 * hidden, ind != null ? "the independent processes'" : "1-process", exposed, list(exposedPerRound), sync,
                    DdpBench.median(one.stepNs()) / 1e6, 100 * hiddenVsOne);
        } else {
            System.out.println("hidden behind backward: n/a");
        }
    }

    private static String list(List<Double> v) {
        StringBuilder r = new StringBuilder();
        for (double e : v) r.append(r.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", e));
        return r.toString();
    }

    private static void describe(Pool p) {
        StringBuilder runs = new StringBuilder();
        for (double v : p.perRun()) runs.append(runs.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", v));
        System.out.printf(Locale.ROOT, "  %d process%s x batch %d, median of %d epochs of %d steps over %d runs (per-run medians: %s); median step %.2f ms%s%n",
                p.world(), p.world() == 1 ? "" : "es", p.batch(), p.sps().size(), p.steps(), p.runs(), runs,
                DdpBench.median(p.stepNs()) / 1e6,
                p.world() > 1 ? String.format(Locale.ROOT, ", of it all-reduce %.2f ms", DdpBench.median(p.syncNs()) / 1e6) : "");
    }

    /**
     * The throughput runs under {@code work/prefix*}; per step the mean over the ranks, and the
     * smallest all-reduce time. With {@code pair} each run is two independent single processes
     * started together ({@code rank-0.tsv} and {@code rank-1.tsv}), whose samples/s add up.
     */
    private static Pool pool(Path work, String prefix, boolean pair) throws IOException {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(work)) {
            dirs = s.filter(d -> d.getFileName().toString().startsWith(prefix) && Files.exists(d.resolve("rank-0.tsv"))).sorted().toList();
        }
        if (dirs.isEmpty()) return null;
        List<Double> sps = new ArrayList<>(), perRun = new ArrayList<>(), perRunStep = new ArrayList<>();
        List<Long> step = new ArrayList<>(), sync = new ArrayList<>(), syncMin = new ArrayList<>();
        Rank first = null;
        for (Path d : dirs) {
            Rank r0 = Rank.read(d.resolve("rank-0.tsv"));
            if (first == null) first = r0;
            List<Rank> ranks = new ArrayList<>(List.of(r0));
            for (int r = 1; r < (pair ? 2 : r0.world()); r++) {
                Path f = d.resolve("rank-" + r + ".tsv");
                if (!Files.exists(f)) throw new IOException(f + " is missing: rank " + r + " of run " + d + " did not finish");
                ranks.add(Rank.read(f));
            }
            List<Double> runSps = new ArrayList<>(r0.sps()); // rank 0's epoch time, every rank's examples
            if (pair) for (int e = 0; e < runSps.size(); e++) runSps.set(e, runSps.get(e) + ranks.get(1).sps().get(e));
            sps.addAll(runSps);
            perRun.add(medianD(runSps));
            int from = step.size();
            for (int i = 0; i < r0.stepNs().size(); i++) {
                long st = 0, sy = 0, min = Long.MAX_VALUE;
                for (Rank r : ranks) {
                    st += r.stepNs().get(i);
                    sy += r.syncNs().get(i);
                    min = Math.min(min, r.syncNs().get(i));
                }
                step.add(st / ranks.size());
                sync.add(sy / ranks.size());
                syncMin.add(min);
            }
            perRunStep.add(DdpBench.median(step.subList(from, step.size())) / 1e6);
        }
        return new Pool(dirs.size(), pair ? 2 : first.world(), first.batch(), first.steps(), sps, perRun, perRunStep, step, sync, syncMin);
    }

    private static void parity(Path work) throws IOException {
        Path two = work.resolve("parity-two"), one = work.resolve("parity-one");
        if (!Files.exists(two.resolve("rank-0.bin")) || !Files.exists(two.resolve("rank-1.bin")) || !Files.exists(one.resolve("rank-0.bin"))) {
            System.out.println("max relative parameter difference vs single process: n/a");
            return;
        }
        float[] r0 = read(two.resolve("rank-0.bin")), r1 = read(two.resolve("rank-1.bin")), single = read(one.resolve("rank-0.bin"));
        if (r0.length != single.length) throw new IOException("the runs have " + r0.length + " and " + single.length + " parameters");
        double diff = 0, scale = 0, d2 = 0, n2 = 0;
        for (int i = 0; i < single.length; i++) {
            double d = (double) r0[i] - single[i];
            diff = Math.max(diff, Math.abs(d));
            scale = Math.max(scale, Math.abs(single[i]));
            d2 += d * d;
            n2 += (double) single[i] * single[i];
        }
        Rank a = Rank.read(two.resolve("rank-0.tsv")), b = Rank.read(one.resolve("rank-0.tsv"));
        System.out.printf(Locale.ROOT, "max relative parameter difference vs single process: %.3g%n", diff / scale);
        System.out.printf(Locale.ROOT, "  2 ranks x batch %d against 1 process x batch %d after %d Adam steps from the same initialisation, over all %d parameters;%n"
                + "  D = max|a - b| / max|b| (DataParallelTest's measure; ||a - b|| / ||b|| = %.3g); ranks 0 and 1 bit-identical: %s%n",
                a.batch(), b.batch(), a.steps(), single.length, Math.sqrt(d2 / n2), Arrays.equals(r0, r1));
        Path acc = work.resolve("parity-acc").resolve("rank-0.bin");
        if (Files.exists(acc)) {
            float[] c = read(acc);
            double cd = 0;
            for (int i = 0; i < single.length; i++) cd = Math.max(cd, Math.abs((double) c[i] - single[i]));
            System.out.printf(Locale.ROOT, "  control without MPI: 1 process accumulating 2 micro-batches of %d per step against the same 1 x %d: D = %.3g%n"
                    + "  (the same change of summation order, mean of two half-batch means against one mean, in one process)%n",
                    a.batch(), b.batch(), cd / scale);
        }
    }

    /**
     * The anchor's runs, {@code allreduce-*.txt}, one per round, each with the line
     * {@code ALLREDUCE ranks N floats C bytes B median_us M min_us M max_us M reps R warmup W cold_median_us M}:
     * the median of the runs' medians.
     */
    private record Raw(long floats, long bytes, double medianUs, String how) {
        static Raw read(Path work) throws IOException {
            List<Path> files;
            try (Stream<Path> s = Files.list(work)) {
                files = s.filter(f -> f.getFileName().toString().matches("allreduce-.*\\.txt")).sorted().toList();
            }
            List<Double> med = new ArrayList<>(), cold = new ArrayList<>();
            long floats = 0, bytes = 0;
            String reps = "?", warmup = "?";
            for (Path f : files) {
                for (String line : Files.readAllLines(f)) {
                    String[] t = line.trim().split("\\s+");
                    if (t.length >= 19 && t[0].equals("ALLREDUCE")) {
                        floats = Long.parseLong(t[4]);
                        bytes = Long.parseLong(t[6]);
                        med.add(Double.parseDouble(t[8]));
                        reps = t[14];
                        warmup = t[16];
                        cold.add(Double.parseDouble(t[18]));
                    }
                }
            }
            if (med.isEmpty()) return null;
            StringBuilder runs = new StringBuilder();
            for (double m : med) runs.append(runs.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", m));
            return new Raw(floats, bytes, medianD(med), String.format(Locale.ROOT,
                    "each call after a barrier, median of %s calls after %s warm-up calls, median of %d runs (one per round: %s us);%n"
                    + "  with 64 MiB of other memory written before each call, as the backward pass leaves the caches: %.0f us",
                    reps, warmup, med.size(), runs, medianD(cold)));
        }
    }

    private static double medianD(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static float[] read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        float[] f = new float[bytes.length / 4];
        try (DataInputStream d = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
            for (int i = 0; i < f.length; i++) f[i] = d.readFloat();
        }
        return f;
    }
}
