package dev.kiln.runtime.dist;

import static org.junit.jupiter.api.Assertions.*;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Several ranks as threads of one JVM on loopback. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RendezvousStoreTest {
    private static final String LOOPBACK = "127.0.0.1";
    private static final StoreOptions FAST = StoreOptions.builder().connectTimeout(Duration.ofSeconds(20))
            .heartbeat(Duration.ofMillis(100)).serverSilence(Duration.ofSeconds(2)).build();
    private final ExecutorService ranks = Executors.newCachedThreadPool();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
        ranks.shutdownNow();
        assertTrue(ranks.awaitTermination(10, TimeUnit.SECONDS));
    }

    private RendezvousStore store(int rank, int world, int port, StoreOptions o) {
        RendezvousStore s = RendezvousStore.open(ProcessGroupSpec.of(rank, world, LOOPBACK, port), o);
        synchronized (open) { open.add(s); }
        return s;
    }

    /** Rank 0 on a free port, then ranks 1.. connecting to it. */
    private List<RendezvousStore> group(int world) {
        List<RendezvousStore> g = new ArrayList<>();
        g.add(store(0, world, 0, FAST));
        for (int r = 1; r < world; r++) g.add(store(r, world, g.getFirst().port(), FAST));
        return g;
    }

    private <T> List<T> onEveryRank(List<RendezvousStore> g, RankTask<T> task) throws Exception {
        List<Future<T>> fs = new ArrayList<>();
        for (int r = 0; r < g.size(); r++) {
            int rank = r;
            fs.add(ranks.submit((Callable<T>) () -> task.run(rank, g.get(rank))));
        }
        List<T> out = new ArrayList<>();
        for (Future<T> f : fs) out.add(f.get(30, TimeUnit.SECONDS));
        return out;
    }

    interface RankTask<T> { T run(int rank, RendezvousStore s) throws Exception; }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) { return s.getLocalPort(); }
    }

    @Test void setGetAddAndBarrierAcrossRanks() throws Exception {
        List<RendezvousStore> g = group(4);
        List<String> seen = onEveryRank(g, (rank, s) -> {
            if (rank == 2) s.set("nccl-id", "id-from-2".getBytes(StandardCharsets.UTF_8));
            String id = new String(s.get("nccl-id", Duration.ofSeconds(10)), StandardCharsets.UTF_8);
            s.add("joined", 1);
            s.barrier("after-join", Duration.ofSeconds(10));
            // Every rank passed the barrier only after every add.
            return id + "/" + s.add("joined", 0);
        });
        assertEquals(List.of("id-from-2/4", "id-from-2/4", "id-from-2/4", "id-from-2/4"), seen);
        assertArrayEquals("4".getBytes(StandardCharsets.US_ASCII), g.get(3).get("joined", Duration.ZERO), "counters read as decimal text");
        assertArrayEquals(new byte[0], roundTrip(g.get(1), new byte[0]));
    }

    private static byte[] roundTrip(RendezvousStore s, byte[] v) {
        s.set("k", v);
        return s.get("k", Duration.ofSeconds(1));
    }

    @Test void concurrentAddsAreAtomic() throws Exception {
        List<RendezvousStore> g = group(4);
        List<List<Long>> results = onEveryRank(g, (rank, s) -> {
            List<Long> mine = new ArrayList<>();
            for (int i = 0; i < 300; i++) mine.add(s.add("counter", 1));
            return mine;
        });
        Set<Long> all = new HashSet<>();
        results.forEach(all::addAll);
        assertEquals(1200, all.size(), "two adds returned the same sum");
        for (long i = 1; i <= 1200; i++) assertTrue(all.contains(i));
        assertEquals(1200, g.getFirst().add("counter", 0));
        assertEquals(1190, g.getFirst().add("counter", -10));
    }

    @Test void getTimesOutNamingTheKeyAndTime() {
        RendezvousStore s = group(1).getFirst();
        long t0 = System.nanoTime();
        RendezvousTimeoutException e = assertThrows(RendezvousTimeoutException.class, () -> s.get("never", Duration.ofMillis(700)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 650 && ms < 5_000, ms + " ms");
        assertTrue(e.getMessage().contains("'never'") && e.getMessage().contains("0.7 s") && e.getMessage().contains("attempt-0"), e.getMessage());
        s.set("never", new byte[] {7});
        assertArrayEquals(new byte[] {7}, s.get("never", Duration.ofSeconds(1)), "a timed-out get leaves the client usable");
    }

    @Test void aLongGetSurvivesOnHeartbeatsBeyondTheSilenceLimit() throws Exception {
        List<RendezvousStore> g = group(2);
        Future<byte[]> waiting = ranks.submit(() -> g.get(1).get("late", Duration.ofSeconds(20)));
        Thread.sleep(FAST.serverSilence().toMillis() + 1_500);
        g.getFirst().set("late", new byte[] {1, 2});
        assertArrayEquals(new byte[] {1, 2}, waiting.get(10, TimeUnit.SECONDS));
    }

    @Test void clientsWaitForALateServer() throws Exception {
        int port = freePort();
        List<Future<Long>> early = new ArrayList<>();
        for (int r = 1; r < 3; r++) {
            int rank = r;
            early.add(ranks.submit(() -> {
                RendezvousStore s = store(rank, 3, port, FAST);
                s.barrier("start", Duration.ofSeconds(20));
                return s.add("n", 1);
            }));
        }
        Thread.sleep(800); // the clients are being refused meanwhile
        RendezvousStore zero = store(0, 3, port, FAST);
        zero.barrier("start", Duration.ofSeconds(20));
        long total = 0;
        for (Future<Long> f : early) total += f.get(20, TimeUnit.SECONDS);
        assertTrue(total == 3 || total == 4 || total == 5, "adds 1 and 2 in some order: " + total);
    }

    @Test void noServerFailsAfterTheConnectTimeout() throws Exception {
        int port = freePort();
        StoreOptions quick = StoreOptions.builder().connectTimeout(Duration.ofMillis(600)).build();
        long t0 = System.nanoTime();
        RendezvousException e = assertThrows(RendezvousException.class, () -> store(1, 2, port, quick));
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 5_000);
        assertTrue(e.getMessage().contains("cannot reach the rendezvous store at 127.0.0.1:" + port), e.getMessage());
    }

    @Test void closingTheServerFailsABlockedGetAtOnce() throws Exception {
        List<RendezvousStore> g = group(2);
        Future<byte[]> blocked = ranks.submit(() -> g.get(1).get("never", Duration.ofMinutes(5)));
        Thread.sleep(300);
        long t0 = System.nanoTime();
        g.getFirst().close();
        var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> blocked.get(10, TimeUnit.SECONDS));
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 3_000);
        assertInstanceOf(RendezvousException.class, e.getCause());
        assertFalse(e.getCause() instanceof RendezvousTimeoutException);
        assertTrue(e.getCause().getMessage().contains("while waiting for key 'never'"), e.getCause().getMessage());
        RendezvousException again = assertThrows(RendezvousException.class, () -> g.get(1).add("x", 1));
        assertTrue(again.getMessage().contains("unusable"), again.getMessage());
    }

    /** A rank 0 whose host vanished sends no FIN; the heartbeats' absence is what tells. */
    @Test void aSilentServerIsCalledGoneWithinTheSilenceLimit() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Future<?> server = ranks.submit(() -> {
                try (Socket s = fake.accept()) {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    in.readFully(new byte[in.readInt()]); // hello
                    out.writeInt(1);
                    out.writeByte(StoreProtocol.OK);
                    out.flush();
                    Thread.sleep(30_000); // then never answers
                }
                return null;
            });
            RendezvousStore s = store(1, 2, fake.getLocalPort(), FAST);
            long t0 = System.nanoTime();
            RendezvousException e = assertThrows(RendezvousException.class, () -> s.get("k", Duration.ofMinutes(5)));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 1_500 && ms < 6_000, ms + " ms");
            assertTrue(e.getMessage().contains("no word from the server for 2.0 s"), e.getMessage());
            server.cancel(true);
        }
    }

    @Test void malformedFramesCloseOnlyTheirConnection() throws Exception {
        RendezvousStore s = group(1).getFirst();
        s.set("alive", new byte[] {1});
        int port = s.port();
        List<byte[]> bad = List.of(
                frame(0x7FFF_FFFF),                                     // over the limit
                frame(-5),                                              // negative length
                frame(0),                                               // empty frame
                concat(frame(3), new byte[] {99, 0, 0}),                // unknown opcode
                concat(frame(4), new byte[] {StoreProtocol.SET, 0, 9, 'a'}), // key longer than the frame
                concat(frame(6), new byte[] {StoreProtocol.HELLO, 1, 2, 3, 4, 1}), // a second hello, not Kiln's magic
                concat(frame(6), new byte[] {StoreProtocol.ADD, 0, 1, 'k', 0, 0}), // delta cut short
                concat(frame(100), new byte[] {StoreProtocol.SET}));    // stream ends inside the frame
        byte[] hello = concat(frame(6), new byte[] {StoreProtocol.HELLO, 0x4B, 0x49, 0x4C, 0x4E, StoreProtocol.VERSION});
        byte[] setWithoutHello = concat(frame(8), new byte[] {StoreProtocol.SET, 0, 1, 'k', 0, 0, 0, 0});
        try (Socket raw = new Socket(LOOPBACK, port)) {
            raw.setSoTimeout(5_000);
            raw.getOutputStream().write(setWithoutHello);
            raw.shutdownOutput();
            assertEquals(0, raw.getInputStream().readAllBytes().length, "a request before the hello was answered");
        }
        for (byte[] b : bad) {
            try (Socket raw = new Socket(LOOPBACK, port)) {
                raw.setSoTimeout(5_000);
                raw.getOutputStream().write(concat(hello, b)); // past the hello, so the frame's own fault is what closes
                raw.shutdownOutput();
                assertEquals(5, raw.getInputStream().readAllBytes().length, "the server answered a malformed frame instead of closing");
            }
        }
        assertArrayEquals(new byte[] {1}, s.get("alive", Duration.ofSeconds(1)), "the server survived");
        RendezvousStore another = store(1, 2, port, FAST);
        assertEquals(1, another.add("fine", 1));
    }

    private static byte[] frame(int length) {
        return new byte[] {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test void valuesOverTheFrameLimitAreRefusedBeforeSending() {
        StoreOptions small = StoreOptions.builder().heartbeat(Duration.ofMillis(100)).serverSilence(Duration.ofSeconds(2)).maxFrameBytes(1024).build();
        RendezvousStore s = store(0, 1, 0, small);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.set("big", new byte[2000]));
        assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("1024"), e.getMessage());
        s.set("fits", new byte[900]);
        assertEquals(900, s.get("fits", Duration.ofSeconds(1)).length);
        assertThrows(IllegalArgumentException.class, () -> s.set("", new byte[1]));
    }

    @Test void namespacesIsolateAttempts() {
        RendezvousStore zero = store(0, 2, 0, FAST);
        RendezvousStore stale = RendezvousStore.open(new ProcessGroupSpec(1, 2, 0, 1, LOOPBACK, zero.port(), Launcher.TORCHRUN, 0), FAST);
        open.add(stale);
        RendezvousStore restarted = RendezvousStore.open(new ProcessGroupSpec(1, 2, 0, 1, LOOPBACK, zero.port(), Launcher.TORCHRUN, 1), FAST);
        open.add(restarted);
        stale.set("nccl-id", new byte[] {0});
        assertEquals(1, stale.add("joined", 1));
        assertThrows(RendezvousTimeoutException.class, () -> restarted.get("nccl-id", Duration.ofMillis(300)));
        assertEquals(1, restarted.add("joined", 1));
        RendezvousStore named = store(1, 2, zero.port(), StoreOptions.builder().heartbeat(Duration.ofMillis(100))
                .serverSilence(Duration.ofSeconds(2)).namespace("run-42").build());
        assertEquals(1, named.add("joined", 1));
        assertArrayEquals(new byte[] {0}, zero.get("nccl-id", Duration.ofSeconds(1)), "rank 0 of attempt 0 shares stale's namespace");
    }

    @Test void barrierTimeoutSaysHowManyArrivedAndANameServesOneBarrier() throws Exception {
        List<RendezvousStore> g = group(3);
        RendezvousTimeoutException e = assertThrows(RendezvousTimeoutException.class, () -> g.get(1).barrier("b", Duration.ofMillis(400)));
        assertTrue(e.getMessage().contains("barrier 'b'") && e.getMessage().contains("1 of 3 ranks arrived"), e.getMessage());
        onEveryRank(g, (rank, s) -> { s.barrier("c", Duration.ofSeconds(10)); return null; });
        RendezvousException reused = assertThrows(RendezvousException.class, () -> g.getFirst().barrier("c", Duration.ofSeconds(1)));
        assertTrue(reused.getMessage().contains("more than the world size 3"), reused.getMessage());
    }

    @Test void anotherServiceOnThePortIsNotMistakenForTheStore() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ranks.submit(() -> {
                try (Socket s = fake.accept()) {
                    s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    Thread.sleep(5_000);
                }
                return null;
            });
            StoreOptions quick = StoreOptions.builder().connectTimeout(Duration.ofMillis(800)).build();
            RendezvousException e = assertThrows(RendezvousException.class, () -> store(1, 2, fake.getLocalPort(), quick));
            assertTrue(e.getMessage().contains("cannot reach"), e.getMessage());
        }
    }

    @Test void onlyRankZeroMayUsePortZero() {
        assertThrows(IllegalArgumentException.class, () -> store(1, 2, 0, FAST));
    }

    /** A host name that resolves to 127.0.1.1 on its own host must still be served on every interface. */
    @Test void onlyLoopbackLiteralsAndLocalhostBindLoopback() {
        org.junit.jupiter.api.Assertions.assertTrue(RendezvousStore.isLoopback("127.0.0.1"));
        org.junit.jupiter.api.Assertions.assertTrue(RendezvousStore.isLoopback("::1"));
        org.junit.jupiter.api.Assertions.assertTrue(RendezvousStore.isLoopback("localhost"));
        org.junit.jupiter.api.Assertions.assertFalse(RendezvousStore.isLoopback("10.1.2.3"));
        org.junit.jupiter.api.Assertions.assertFalse(RendezvousStore.isLoopback(java.util.Objects.requireNonNullElse(System.getenv("HOSTNAME"), "somehost")));
    }
}
