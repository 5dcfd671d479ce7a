package dev.kiln.runtime.dist;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.core.DType;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Rings of 2 to 4 ranks as threads of one JVM on loopback, sharing one host accelerator. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RingCollectivesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final StoreOptions FAST = StoreOptions.builder().connectTimeout(Duration.ofSeconds(20))
            .heartbeat(Duration.ofMillis(100)).serverSilence(Duration.ofSeconds(2)).build();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<AutoCloseable> open = new ArrayList<>();
    private final HostAccelerator host = new HostAccelerator();

    @AfterEach void closeAll() throws Exception {
        synchronized (open) {
            for (AutoCloseable c : open.reversed()) c.close();
        }
        threads.shutdownNow();
        assertTrue(threads.awaitTermination(10, TimeUnit.SECONDS));
        host.close();
    }

    private <T extends AutoCloseable> T opened(T c) {
        synchronized (open) { open.add(c); }
        return c;
    }

    private List<RendezvousStore> stores(int world) {
        List<RendezvousStore> g = new ArrayList<>();
        g.add(opened(RendezvousStore.open(ProcessGroupSpec.of(0, world, "127.0.0.1", 0), FAST)));
        for (int r = 1; r < world; r++) g.add(opened(RendezvousStore.open(ProcessGroupSpec.of(r, world, "127.0.0.1", g.getFirst().port()), FAST)));
        return g;
    }

    private List<RingCollectives> ring(int size, Duration timeout) throws Exception { return join(stores(size), timeout); }

    /** Joining blocks until both neighbours are there, so every rank joins on its own thread. */
    private List<RingCollectives> join(List<RendezvousStore> stores, Duration timeout) throws Exception {
        List<Future<RingCollectives>> fs = new ArrayList<>();
        for (int r = 0; r < stores.size(); r++) {
            int rank = r;
            fs.add(threads.submit(() -> opened(RingCollectives.join(host, stores.get(rank), rank, stores.size(), timeout))));
        }
        List<RingCollectives> ring = new ArrayList<>();
        for (Future<RingCollectives> f : fs) ring.add(f.get(30, TimeUnit.SECONDS));
        return ring;
    }

    interface RankTask<T> { T run(int rank, RingCollectives c) throws Exception; }

    private <T> List<T> onEveryRank(List<RingCollectives> ring, RankTask<T> task) throws Exception {
        List<Future<T>> fs = new ArrayList<>();
        for (int r = 0; r < ring.size(); r++) {
            int rank = r;
            fs.add(threads.submit((Callable<T>) () -> task.run(rank, ring.get(rank))));
        }
        List<T> out = new ArrayList<>();
        for (Future<T> f : fs) out.add(f.get(30, TimeUnit.SECONDS));
        return out;
    }

    // Host data in and out of buffers.

    private Buffer f32(float... v) { return host.upload(TensorType.of(DType.F32, v.length), MemorySegment.ofArray(v)); }

    private Buffer f64(double... v) { return host.upload(TensorType.of(DType.F64, v.length), MemorySegment.ofArray(v)); }

    private Buffer bf16(short... v) { return host.upload(TensorType.of(DType.BF16, v.length), MemorySegment.ofArray(v)); }

    private Buffer i32(int... v) { return host.upload(TensorType.of(DType.I32, v.length), MemorySegment.ofArray(v)); }

    private float[] floats(Buffer b) { float[] v = new float[(int) b.type().shape().size()]; host.download(b, MemorySegment.ofArray(v)); return v; }

    private double[] doubles(Buffer b) { double[] v = new double[(int) b.type().shape().size()]; host.download(b, MemorySegment.ofArray(v)); return v; }

    private short[] shorts(Buffer b) { short[] v = new short[(int) b.type().shape().size()]; host.download(b, MemorySegment.ofArray(v)); return v; }

    private int[] ints(Buffer b) { int[] v = new int[(int) b.type().shape().size()]; host.download(b, MemorySegment.ofArray(v)); return v; }

    private Buffer like(Buffer b, int factor) { return host.allocate(TensorType.of(b.type().dtype(), (int) b.type().shape().size() * factor)); }

    private static float[] randomFloats(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 2 - 1;
        return v;
    }

    private static float widen(short bf16) { return Float.intBitsToFloat((bf16 & 0xFFFF) << 16); }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToRawIntBits(v[i]);
        return b;
    }

    /**
     * A sum of {@code size} floats in any order is within {@code (size - 1) * 2^-24 * sum|x|} of
     * the exact sum (to first order); the float64 reference is exact enough to stand for it.
     */
    private static void assertNearSum(float[][] inputs, float[] got, long from) {
        for (int i = 0; i < got.length; i++) {
            double sum = 0, abs = 0;
            for (float[] in : inputs) {
                sum += in[(int) from + i];
                abs += Math.abs(in[(int) from + i]);
            }
            double tolerance = inputs.length * 0x1p-24 * abs;
            if (Math.abs(got[i] - sum) > tolerance) fail("element " + i + ": " + got[i] + " vs " + sum + " (tolerance " + tolerance + ")");
        }
    }

    @Test void allReduceF32IsNearTheExactSumAndBitIdenticalOnEveryRank() throws Exception {
        for (int size = 2; size <= 4; size++) {
            List<RingCollectives> ring = ring(size, TIMEOUT);
            for (int n : new int[] {1, 7, 100_003}) {
                float[][] inputs = new float[size][];
                for (int r = 0; r < size; r++) inputs[r] = randomFloats(31L * size + 7L * n + r, n);
                boolean inPlace = n == 7;
                List<float[]> results = onEveryRank(ring, (rank, c) -> {
                    Buffer in = f32(inputs[rank]), out = inPlace ? in : like(in, 1);
                    c.allReduce(in, out);
                    return floats(out);
                });
                assertNearSum(inputs, results.getFirst(), 0);
                for (float[] r : results) assertArrayEquals(bits(results.getFirst()), bits(r), size + " ranks, " + n + " elements");
            }
        }
    }

    @Test void allReduceF64AndAveragesDivideTheSumInTheElementPrecision() throws Exception {
        List<RingCollectives> ring = ring(3, TIMEOUT);
        int n = 1001;
        List<double[]> sums = onEveryRank(ring, (rank, c) -> {
            double[] v = new Random(rank).doubles(n).toArray();
            Buffer in = f64(v), sum = like(in, 1), avg = like(in, 1);
            c.allReduce(in, sum);
            c.allReduceAverage(in, avg);
            double[] s = doubles(sum), a = doubles(avg);
            for (int i = 0; i < n; i++) if (s[i] / 3 != a[i]) fail("f64 average element " + i + ": " + a[i] + ", not " + s[i] / 3);
            return s;
        });
        double[][] inputs = new double[3][];
        for (int r = 0; r < 3; r++) inputs[r] = new Random(r).doubles(n).toArray();
        for (int i = 0; i < n; i++) {
            double exact = inputs[0][i] + inputs[1][i] + inputs[2][i]; // within one rounding of any order's
            assertEquals(exact, sums.getFirst()[i], 3 * 0x1p-53 * 3);
        }
        for (double[] s : sums) assertArrayEquals(sums.getFirst(), s);

        List<float[]> averages = onEveryRank(ring, (rank, c) -> {
            float[] v = randomFloats(rank, n);
            Buffer in = f32(v), sum = like(in, 1);
            c.allReduce(in, sum);
            c.allReduceAverage(in, in);
            float[] s = floats(sum), a = floats(in);
            for (int i = 0; i < n; i++)
                if (Float.floatToRawIntBits(s[i] / 3f) != Float.floatToRawIntBits(a[i])) fail("f32 average element " + i + ": " + a[i] + ", not " + s[i] / 3f);
            return a;
        });
        for (float[] a : averages) assertArrayEquals(bits(averages.getFirst()), bits(a));
    }

    /**
     * Inputs are bf16 values whose f32 sums are exact, so the expected result is the exact sum
     * rounded once. Element 0 also tells one rounding from several: 1 + 2^-8 + 2^-8 rounded once is
     * 1 + 2^-7, while rounding 1 + 2^-8 first (a tie, to even) gives 1 and loses both halves.
     */
    @Test void bf16SumsInF32AndRoundsOnceToNearestEven() throws Exception {
        int size = 3, n = 1000;
        short[][] inputs = new short[size][n];
        Random random = new Random(5);
        for (int r = 0; r < size; r++)
            for (int i = 0; i < n; i++) inputs[r][i] = RingCollectives.bf16((random.nextBoolean() ? 1 : -1) * (float) Math.scalb(1 + random.nextFloat(), random.nextInt(-6, 2)));
        inputs[0][0] = RingCollectives.bf16(0x1p-8f);
        inputs[1][0] = RingCollectives.bf16(1f);
        inputs[2][0] = RingCollectives.bf16(0x1p-8f);
        List<RingCollectives> ring = ring(size, TIMEOUT);
        List<short[][]> results = onEveryRank(ring, (rank, c) -> {
            Buffer in = bf16(inputs[rank]), sum = like(in, 1), avg = like(in, 1);
            c.allReduce(in, sum);
            c.allReduceAverage(in, avg);
            return new short[][] {shorts(sum), shorts(avg)};
        });
        for (int i = 0; i < n; i++) {
            double exact = 0;
            for (short[] in : inputs) exact += widen(in[i]);
            int element = i;
            assertEquals(RingCollectives.bf16((float) exact), results.getFirst()[0][i], () -> "sum element " + element);
            assertEquals(RingCollectives.bf16((float) exact / size), results.getFirst()[1][i], () -> "average element " + element);
        }
        assertEquals(1 + 0x1p-7f, widen(results.getFirst()[0][0]));
        for (short[][] r : results) {
            assertArrayEquals(results.getFirst()[0], r[0]);
            assertArrayEquals(results.getFirst()[1], r[1]);
        }
    }

    @Test void broadcastFromRootOneReachesEveryRank() throws Exception {
        for (int size = 2; size <= 4; size++) {
            List<RingCollectives> ring = ring(size, TIMEOUT);
            int n = 300_007; // over a megabyte: the relay forwards many pieces
            int[] data = new Random(size).ints(n).toArray();
            List<int[]> got = onEveryRank(ring, (rank, c) -> {
                Buffer in = rank == 1 ? i32(data) : i32(new int[n]), out = like(in, 1);
                c.broadcast(in, out, 1);
                return ints(out);
            });
            for (int[] g : got) assertArrayEquals(data, g, size + " ranks");
        }
    }

    @Test void allGatherPutsBlocksInRankOrder() throws Exception {
        for (int size : new int[] {3, 4}) {
            List<RingCollectives> ring = ring(size, TIMEOUT);
            for (int n : new int[] {5, 100_001}) {
                List<int[]> got = onEveryRank(ring, (rank, c) -> {
                    int[] mine = new int[n];
                    Arrays.fill(mine, 100 * rank);
                    mine[0] = rank;
                    Buffer in = i32(mine), out = like(in, size);
                    c.allGather(in, out);
                    return ints(out);
                });
                for (int[] g : got) {
                    for (int r = 0; r < size; r++) {
                        assertEquals(r, g[r * n]);
                        assertEquals(100 * r, g[r * n + n - 1]);
                    }
                }
            }
        }
    }

    @Test void reduceScatterLeavesEachRankItsBlockOfTheSum() throws Exception {
        for (int size = 2; size <= 4; size++) {
            List<RingCollectives> ring = ring(size, TIMEOUT);
            int block = 1001, world = size;
            float[][] inputs = new float[size][];
            for (int r = 0; r < size; r++) inputs[r] = randomFloats(size * 10L + r, block * size);
            List<float[]> got = onEveryRank(ring, (rank, c) -> {
                Buffer in = f32(inputs[rank]), out = host.allocate(TensorType.of(DType.F32, block));
                c.reduceScatter(in, out);
                return floats(out);
            });
            for (int r = 0; r < world; r++) assertNearSum(inputs, got.get(r), (long) r * block);
        }
        List<RingCollectives> ring = ring(3, TIMEOUT);
        List<short[]> got = onEveryRank(ring, (rank, c) -> {
            short[] v = new short[6];
            for (int i = 0; i < 6; i++) v[i] = RingCollectives.bf16(i + 10 * rank);
            Buffer out = host.allocate(TensorType.of(DType.BF16, 2));
            c.reduceScatter(bf16(v), out);
            return shorts(out);
        });
        for (int r = 0; r < 3; r++) {
            assertEquals(3 * (2 * r) + 30f, widen(got.get(r)[0]));
            assertEquals(3 * (2 * r + 1) + 30f, widen(got.get(r)[1]));
        }
    }

    @Test void barrierReturnsOnlyAfterTheLastRankArrives() throws Exception {
        List<RingCollectives> ring = ring(4, TIMEOUT);
        long[] lastArrival = new long[1];
        List<Long> left = onEveryRank(ring, (rank, c) -> {
            c.barrier();
            if (rank == 2) {
                Thread.sleep(300);
                lastArrival[0] = System.nanoTime();
            }
            c.barrier();
            return System.nanoTime();
        });
        for (long t : left) assertTrue(t >= lastArrival[0], "a rank left the barrier before rank 2 arrived");
    }

    @Test void aSecondRingOnTheSameStoresFindsItsOwnPeers() throws Exception {
        List<RendezvousStore> stores = stores(3);
        List<RingCollectives> first = join(stores, TIMEOUT);
        first.forEach(RingCollectives::close);
        List<RingCollectives> second = join(stores, TIMEOUT);
        List<float[]> got = onEveryRank(second, (rank, c) -> {
            Buffer b = f32(rank, 1);
            c.allReduce(b, b);
            return floats(b);
        });
        for (float[] g : got) assertArrayEquals(new float[] {3, 3}, g);
    }

    @Test void mismatchedBuffersAreRefusedNamingTheCallAndTypes() throws Exception {
        List<RingCollectives> ring = ring(2, TIMEOUT);
        RingCollectives c = ring.getFirst();
        var e = assertThrows(IllegalArgumentException.class, () -> c.allReduce(f32(1, 2, 3), f64(1, 2, 3)));
        assertTrue(e.getMessage().contains("allReduce") && e.getMessage().contains("f32[3]") && e.getMessage().contains("f64[3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.allGather(f32(1, 2, 3), f32(1, 2, 3)));
        assertTrue(e.getMessage().contains("allGather") && e.getMessage().contains("2 times"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.reduceScatter(f32(1, 2, 3), f32(1, 2, 3)));
        assertTrue(e.getMessage().contains("reduceScatter"), e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> c.allReduce(i32(1), i32(1)));
        assertThrows(IllegalArgumentException.class, () -> c.broadcast(f32(1), f32(1), 2));
        // Refused before any traffic, so the ring still works.
        List<float[]> got = onEveryRank(ring, (rank, r) -> {
            Buffer b = f32(rank + 1);
            r.allReduce(b, b);
            return floats(b);
        });
        assertArrayEquals(new float[] {3}, got.get(1));
    }

    @Test void ranksMakingDifferentCallsFailNamingBothCalls() throws Exception {
        List<RingCollectives> ring = ring(2, TIMEOUT);
        List<String> messages = onEveryRank(ring, (rank, c) -> {
            Buffer b = host.allocate(TensorType.of(DType.F32, 10 + rank));
            return assertThrows(CollectiveException.class, () -> c.allReduce(b, b)).getMessage();
        });
        assertTrue(messages.get(1).contains("allReduce on rank 1 of 2: rank 0 made call #1, allReduce of 10 f32 where this rank made call #1, allReduce of 11 f32"),
                messages.get(1));
        var later = assertThrows(CollectiveException.class, () -> ring.getFirst().barrier());
        assertTrue(later.getMessage().contains("barrier on rank 0 of 2: the ring broke in an earlier call"), later.getMessage());
    }

    @Test void aPeerThatClosesFailsTheCallNamingIt() throws Exception {
        List<RingCollectives> ring = ring(2, TIMEOUT);
        Buffer big = host.allocate(TensorType.of(DType.F32, 1 << 20));
        long t0 = System.nanoTime();
        Future<?> call = threads.submit(() -> ring.getFirst().allReduce(big, big));
        Thread.sleep(300);
        ring.get(1).close();
        var e = assertInstanceOf(CollectiveException.class, assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS)).getCause());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "took " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertTrue(e.getMessage().contains("allReduce on rank 0 of 2: rank 1 closed its connection"), e.getMessage());
        var later = assertThrows(CollectiveException.class, () -> ring.getFirst().allReduce(big, big));
        assertTrue(later.getMessage().contains("broke in an earlier call"), later.getMessage());
    }

    @Test void aPeerThatClosesFailsEveryOtherRankOfTheRing() throws Exception {
        List<RingCollectives> ring = ring(3, TIMEOUT);
        long t0 = System.nanoTime();
        List<Future<?>> calls = new ArrayList<>();
        for (int r : new int[] {0, 2}) {
            Buffer big = host.allocate(TensorType.of(DType.F32, 1 << 20));
            calls.add(threads.submit(() -> ring.get(r).allReduce(big, big)));
        }
        Thread.sleep(300);
        ring.get(1).close();
        for (Future<?> f : calls) assertInstanceOf(CollectiveException.class, assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS)).getCause());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "took " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    @Test void aSilentPeerTimesOutNamingIt() throws Exception {
        List<RingCollectives> ring = ring(2, Duration.ofMillis(1500));
        long t0 = System.nanoTime();
        var e = assertThrows(CollectiveException.class, () -> ring.getFirst().allReduce(f32(1), f32(1)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 1_400 && ms < 3_500, ms + " ms");
        assertEquals("allReduce on rank 0 of 2: rank 1 sent nothing for 1.5 s", e.getMessage());
    }

    @Test void closingFromAnotherThreadEndsACallInProgress() throws Exception {
        List<RingCollectives> ring = ring(2, TIMEOUT);
        Future<?> call = threads.submit(() -> ring.getFirst().barrier());
        Thread.sleep(200);
        long t0 = System.nanoTime();
        ring.getFirst().close();
        var e = assertInstanceOf(CollectiveException.class, assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS)).getCause());
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L);
        assertTrue(e.getMessage().contains("barrier on rank 0 of 2: the ring was closed by another thread"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> ring.getFirst().barrier());
    }

    @Test void ranksThatDisagreeOnTheSizeFailTheJoin() throws Exception {
        List<RendezvousStore> stores = stores(2);
        Future<?> zero = threads.submit(() -> opened(RingCollectives.join(host, stores.get(0), 0, 3, TIMEOUT)));
        Future<?> one = threads.submit(() -> opened(RingCollectives.join(host, stores.get(1), 1, 2, TIMEOUT)));
        var e0 = assertInstanceOf(CollectiveException.class, assertThrows(ExecutionException.class, () -> zero.get(10, TimeUnit.SECONDS)).getCause());
        var e1 = assertInstanceOf(CollectiveException.class, assertThrows(ExecutionException.class, () -> one.get(10, TimeUnit.SECONDS)).getCause());
        assertTrue(e0.getMessage().contains("join on rank 0 of 3") && e0.getMessage().contains("is rank 1 of 2, expected rank 2 of 3"), e0.getMessage());
        assertTrue(e1.getMessage().contains("join on rank 1 of 2") && e1.getMessage().contains("of 3"), e1.getMessage());
    }

    @Test void aGroupOfOneCopiesAndCloseIsFinal() throws Exception {
        RingCollectives c = opened(RingCollectives.join(host, stores(1).getFirst(), 0, 1, TIMEOUT));
        Buffer out = host.allocate(TensorType.of(DType.F32, 2));
        c.allReduce(f32(1.5f, -2), out);
        assertArrayEquals(new float[] {1.5f, -2}, floats(out));
        c.allReduceAverage(f32(3, 4), out);
        assertArrayEquals(new float[] {3, 4}, floats(out));
        c.broadcast(f32(5, 6), out, 0);
        assertArrayEquals(new float[] {5, 6}, floats(out));
        c.allGather(f32(7, 8), out);
        assertArrayEquals(new float[] {7, 8}, floats(out));
        c.reduceScatter(f32(9, 10), out);
        assertArrayEquals(new float[] {9, 10}, floats(out));
        c.barrier();
        c.close();
        c.close();
        var e = assertThrows(IllegalStateException.class, () -> c.allReduce(out, out));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test void ranksListenWhereOtherHostsCanReachThem() throws Exception {
        var local = RingLink.endpoint(java.net.InetAddress.ofLiteral("127.0.0.1"), "127.0.0.1");
        assertEquals("127.0.0.1", local.host());
        assertEquals(java.net.InetAddress.ofLiteral("127.0.0.1"), local.bind());
        var lan = RingLink.endpoint(java.net.InetAddress.ofLiteral("10.1.2.3"), "node0");
        assertEquals(new RingLink.Endpoint(java.net.InetAddress.ofLiteral("10.1.2.3"), "10.1.2.3"), lan);
        // Rank 0's own connection to "node0" left from 127.0.1.1: the other hosts know it as node0.
        assertEquals(new RingLink.Endpoint(null, "node0"), RingLink.endpoint(java.net.InetAddress.ofLiteral("127.0.1.1"), "node0"));
        assertEquals("127.0.0.1", RingLink.endpoint(java.net.InetAddress.ofLiteral("127.0.0.1"), "localhost").host());
    }

    /** Not a check: prints a number for the record (one JVM, loopback, two ranks sharing the CPUs). */
    @Test void printsTheAllReduceTimeOf4MbF32OnTwoRanks() throws Exception {
        List<RingCollectives> ring = ring(2, TIMEOUT);
        List<long[]> times = onEveryRank(ring, (rank, c) -> {
            Buffer in = f32(randomFloats(rank, 1 << 20)), out = like(in, 1);
            long[] t = new long[21];
            for (int i = -5; i < t.length; i++) {
                long t0 = System.nanoTime();
                c.allReduce(in, out);
                if (i >= 0) t[i] = System.nanoTime() - t0;
            }
            return t;
        });
        long[] t = times.getFirst().clone();
        Arrays.sort(t);
        System.out.printf(java.util.Locale.ROOT, "RingCollectives: allReduce of 4 MiB f32 on 2 ranks (one JVM, loopback): median %.2f ms of %d, min %.2f ms%n",
                t[t.length / 2] / 1e6, t.length, t[0] / 1e6);
    }
}
