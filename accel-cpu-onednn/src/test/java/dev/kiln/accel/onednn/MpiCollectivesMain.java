package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One rank of {@link MpiRunTest}, started by mpirun: every collective on f32, f64 and bf16 against
 * a float64 reference built from all ranks' seeds (each rank can regenerate every rank's data),
 * the ranks' results compared bit for bit, two error paths, the JVM's signal handlers still its
 * own, then the all-reduce timings. Runs under Open MPI's mpirun or MPICH's Hydra. Prints "OK rank
 * r" and exits 0, or prints the failure and exits 1 (the launcher then ends the job).
 *
 * <p>Tolerance: a sum over p ranks accumulated in precision u and stored in precision v is within
 * {@code (p - 1) u sum|x| + v |sum|} of the exact sum. For p = 2 the single addition is exact
 * before its one rounding, so the f32 and f64 results equal the correctly rounded sums bit for bit;
 * bf16 sums in f32 then rounds to bf16, hence v = 2^-8 there.
 */
public final class MpiCollectivesMain {
    private static final int N = 1000;
    private static final long SEED = 20261201L;

    private final Accelerator acc;
    private final Collectives coll;
    private final int rank, size;

    private MpiCollectivesMain(Accelerator acc, Collectives coll) {
        this.acc = acc;
        this.coll = coll;
        this.rank = coll.rank();
        this.size = coll.size();
    }

    public static void main(String[] args) {
        int rank = envInt("OMPI_COMM_WORLD_RANK", "PMI_RANK"), size = envInt("OMPI_COMM_WORLD_SIZE", "PMI_SIZE");
        // Before anything loads MPI: the JVM's own handlers, which MPI's libraries must leave in place.
        Map<String, Long> jvmHandlers = new LinkedHashMap<>();
        for (String signal : List.of("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGHUP")) jvmHandlers.put(signal, JvmSignals.handlerOf(signal));
        try (Accelerator acc = new OneDnnProvider().open(AcceleratorConfig.defaults())) {
            if (!acc.capabilities().collectives()) throw new AssertionError("capabilities say no collectives");
            expectThrows(IllegalArgumentException.class, () -> acc.collectives(rank, size + 1, null), "a world that does not match");
            try (Collectives coll = acc.collectives(rank, size, acc.newCollectiveGroupId())) {
                MpiProcess mpi = MpiProcess.get();
                if (rank == 0) {
                    System.out.println("rank 0: " + mpi.library().describe() + "; thread level " + mpi.threadLevel()
                            + "; JVM signal handlers put back after loading: " + mpi.library().restoredSignals()
                            + ", after MPI_Init: " + mpi.restoredAtInit() + "; " + JvmSignals.UCX_HANDLE_ERRORS + "="
                            + JvmSignals.cEnv(JvmSignals.UCX_HANDLE_ERRORS));
                }
                MpiCollectivesMain m = new MpiCollectivesMain(acc, coll);
                for (DType d : new DType[] {DType.F32, DType.F64, DType.BF16}) m.all(d);
                m.errors();
                m.timings();
                coll.barrier();
                m.signalsKept(jvmHandlers);
            }
            System.out.println("OK rank " + rank);
        } catch (Throwable t) {
            System.out.println("FAIL rank " + rank + ": " + t);
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
    }

    private void all(DType d) {
        double[][] data = new double[size][];
        for (int r = 0; r < size; r++) data[r] = values(d, r, N * size);
        double[] mine = data[rank];

        double[] sum = new double[N * size];
        double[] absSum = new double[N * size];
        for (double[] x : data) for (int k = 0; k < sum.length; k++) { sum[k] += x[k]; absSum[k] += Math.abs(x[k]); }

        double[] first = Arrays.copyOf(mine, N);
        double[] sumFirst = Arrays.copyOf(sum, N), absFirst = Arrays.copyOf(absSum, N);
        try (Buffer in = upload(d, first); Buffer out = acc.allocate(TensorType.of(d, N))) {
            coll.allReduce(in, out);
            check(d + " allReduce", d, download(out), sumFirst, absFirst);
            agree(d + " allReduce", out);
            coll.allReduceAverage(in, out);
            check(d + " allReduceAverage", d, download(out), scaled(sumFirst, 1.0 / size), scaled(absFirst, 1.0 / size));
            agree(d + " allReduceAverage", out);
            coll.allReduce(in, in);
            check(d + " allReduce in place", d, download(in), sumFirst, absFirst);
        }

        int root = size - 1;
        try (Buffer in = upload(d, first); Buffer out = acc.allocate(TensorType.of(d, N))) {
            coll.broadcast(in, out, root);
            same(d + " broadcast", download(out), Arrays.copyOf(data[root], N));
            coll.broadcast(in, in, 0);
            same(d + " broadcast in place", download(in), Arrays.copyOf(data[0], N));
        }

        try (Buffer in = upload(d, first); Buffer out = acc.allocate(TensorType.of(d, N * size))) {
            coll.allGather(in, out);
            double[] expected = new double[N * size];
            for (int r = 0; r < size; r++) System.arraycopy(data[r], 0, expected, r * N, N);
            same(d + " allGather", download(out), expected);
        }

        try (Buffer in = upload(d, mine); Buffer out = acc.allocate(TensorType.of(d, N))) {
            coll.reduceScatter(in, out);
            check(d + " reduceScatter", d, download(out), Arrays.copyOfRange(sum, rank * N, rank * N + N),
                    Arrays.copyOfRange(absSum, rank * N, rank * N + N));
        }
        coll.barrier();
    }

    /** MPI's own argument checks come back as an MpiException naming the call; Kiln's checks come first where it has them. */
    private void errors() {
        try (Buffer b = acc.allocate(TensorType.of(DType.F32, 4))) {
            expectThrows(IllegalArgumentException.class, () -> coll.broadcast(b, b, size + 3), "broadcast root out of range");
            MpiCollectives mpi = (MpiCollectives) coll;
            MpiException e = expectThrows(MpiException.class, () -> mpi.binding().bcast(OneDnnAccelerator.segment(b), 4,
                    mpi.binding().handles().bytes(), size + 3, mpi.communicator()), "MPI_Bcast with an invalid root");
            if (!e.getMessage().startsWith("MPI_Bcast failed: ")) throw new AssertionError("message: " + e.getMessage());
            if (rank == 0) System.out.println("rank 0: MPI error as exception: " + e.getMessage());
            expectThrows(UnsupportedOperationException.class, () -> {
                try (Buffer i = acc.allocate(TensorType.of(DType.I32, 4))) { coll.allReduce(i, i); }
            }, "an i32 sum");
        }
        coll.barrier();
    }

    /**
     * After loading MPI, MPI_Init and every collective, the JVM's fault handlers are still its own
     * (Debian's MPICH, through UCX, replaces them unless Kiln puts them back), and a deliberate
     * fault, an implicit null check, is still a NullPointerException.
     */
    private void signalsKept(Map<String, Long> before) {
        for (var e : before.entrySet()) {
            long now = JvmSignals.handlerOf(e.getKey());
            if (now != e.getValue()) {
                throw new AssertionError(e.getKey() + " handler changed from 0x" + Long.toHexString(e.getValue()) + " to 0x" + Long.toHexString(now));
            }
        }
        int[][] arrays = {new int[1], null};
        int npes = 0;
        for (int i = 0; i < 200_000; i++) {
            try { npes += arrays[i & 1][0] - arrays[i & 1][0]; } catch (NullPointerException expected) { npes++; }
        }
        if (npes != 100_000) throw new AssertionError("null checks: " + npes + " NullPointerExceptions, expected 100000");
    }

    private void timings() {
        for (int floats : new int[] {100_000, 1_000_000}) {
            try (Buffer in = acc.allocate(TensorType.of(DType.F32, floats)); Buffer out = acc.allocate(TensorType.of(DType.F32, floats))) {
                long[] ns = new long[50];
                for (int i = 0; i < 10; i++) coll.allReduce(in, out);
                coll.barrier();
                for (int i = 0; i < ns.length; i++) {
                    long t0 = System.nanoTime();
                    coll.allReduce(in, out);
                    ns[i] = System.nanoTime() - t0;
                }
                Arrays.sort(ns);
                if (rank == 0) {
                    System.out.printf("rank 0: allReduce f32 %d KB x%d ranks (%s): median %.1f us (min %.1f, max %.1f) over %d%n",
                            floats * 4 / 1000, size, MpiProcess.get().library().implementation().displayName,
                            ns[ns.length / 2] / 1e3, ns[0] / 1e3, ns[ns.length - 1] / 1e3, ns.length);
                }
            }
        }
    }

    /** Every rank's result gathered and compared bit for bit. */
    private void agree(String what, Buffer result) {
        int n = (int) result.type().shape().size();
        try (Buffer all = acc.allocate(TensorType.of(result.type().dtype(), n * size))) {
            coll.allGather(result, all);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(all.type().byteSize());
                acc.download(all, s);
                long bytes = result.type().byteSize();
                for (int r = 1; r < size; r++) {
                    if (MemorySegment.mismatch(s, 0, bytes, s, r * bytes, (r + 1) * bytes) >= 0) {
                        throw new AssertionError(what + ": rank " + r + " differs from rank 0");
                    }
                }
            }
        }
    }

    private void check(String what, DType d, double[] got, double[] exact, double[] abs) {
        double u = d == DType.F64 ? 0x1p-53 : 0x1p-24, v = switch (d) { case F64 -> 0x1p-53; case BF16 -> 0x1p-8; default -> 0x1p-24; };
        for (int k = 0; k < got.length; k++) {
            double tol = (size - 1) * u * abs[k] + v * Math.abs(exact[k]);
            if (!(Math.abs(got[k] - exact[k]) <= tol)) {
                throw new AssertionError(what + "[" + k + "] = " + got[k] + ", expected " + exact[k] + " within " + tol);
            }
        }
    }

    private static void same(String what, double[] got, double[] expected) {
        if (!Arrays.equals(got, expected)) throw new AssertionError(what + ": differs from the expected values");
    }

    private static double[] scaled(double[] x, double f) {
        double[] y = x.clone();
        for (int k = 0; k < y.length; k++) y[k] *= f;
        return y;
    }

    /** Rank r's data, rounded to d so the reference starts from exactly what the buffers hold. */
    private static double[] values(DType d, int r, int n) {
        Random random = new Random(SEED + 7919L * r);
        double[] x = new double[n];
        for (int k = 0; k < n; k++) {
            double g = random.nextGaussian() * Math.pow(2, random.nextInt(9) - 4);
            x[k] = switch (d) {
                case F64 -> g;
                case F32 -> (float) g;
                case BF16 -> Elements.bf16(Elements.bf16((float) g));
                default -> throw new IllegalArgumentException(d.toString());
            };
        }
        return x;
    }

    private Buffer upload(DType d, double[] x) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate((long) x.length * d.byteSize(), 64);
            for (int k = 0; k < x.length; k++) {
                switch (d) {
                    case F64 -> s.setAtIndex(Elements.F64, k, x[k]);
                    case F32 -> s.setAtIndex(Elements.F32, k, (float) x[k]);
                    default -> s.setAtIndex(Elements.I16, k, Elements.bf16((float) x[k]));
                }
            }
            return acc.upload(TensorType.of(d, x.length), s);
        }
    }

    private double[] download(Buffer b) {
        DType d = b.type().dtype();
        int n = (int) b.type().shape().size();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(b.type().byteSize(), 64);
            acc.download(b, s);
            double[] x = new double[n];
            for (int k = 0; k < n; k++) {
                x[k] = switch (d) {
                    case F64 -> s.getAtIndex(Elements.F64, k);
                    case F32 -> s.getAtIndex(Elements.F32, k);
                    default -> Elements.bf16(s.getAtIndex(Elements.I16, k));
                };
            }
            return x;
        }
    }

    private static <T extends Throwable> T expectThrows(Class<T> type, Runnable action, String what) {
        try {
            action.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) return type.cast(t);
            throw new AssertionError(what + ": expected " + type.getSimpleName() + ", got " + t, t);
        }
        throw new AssertionError(what + ": expected " + type.getSimpleName() + ", nothing thrown");
    }

    private static int envInt(String... names) {
        for (String n : names) {
            String v = System.getenv(n);
            if (v != null) return Integer.parseInt(v);
        }
        throw new IllegalStateException("not started by an MPI launcher: none of " + String.join(", ", names) + " is set");
    }
}
