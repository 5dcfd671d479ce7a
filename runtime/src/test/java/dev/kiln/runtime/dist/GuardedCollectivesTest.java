package dev.kiln.runtime.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Collectives;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The watchdog: a rank that never arrives fails the others within the timeout, named; a broken group stays broken. */
class GuardedCollectivesTest {
    private static final StoreOptions FAST = StoreOptions.builder().connectTimeout(Duration.ofSeconds(20))
            .heartbeat(Duration.ofMillis(100)).serverSilence(Duration.ofSeconds(2)).build();
    private final HostAccelerator host = new HostAccelerator();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach void close() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
        threads.shutdownNow();
        host.close();
    }

    /** Two ring ranks; rank 1 joins but never makes the all-reduce rank 0 makes, as a stopped process would. */
    @Test void aRankThatNeverArrivesIsNamedWithinTheTimeout() throws Exception {
        RendezvousStore s0 = RendezvousStore.open(ProcessGroupSpec.of(0, 2, "127.0.0.1", 0), FAST);
        open.add(s0);
        RendezvousStore s1 = RendezvousStore.open(ProcessGroupSpec.of(1, 2, "127.0.0.1", s0.port()), FAST);
        open.add(s1);
        Future<RingCollectives> r1 = threads.submit(() -> RingCollectives.join(host, s1, 1, 2, Duration.ofSeconds(30)));
        RingCollectives r0 = RingCollectives.join(host, s0, 0, 2, Duration.ofSeconds(30));
        GuardedCollectives g0 = new GuardedCollectives(r0, s0, "ring", Duration.ofSeconds(1));
        GuardedCollectives g1 = new GuardedCollectives(r1.get(30, TimeUnit.SECONDS), s1, "ring", Duration.ofSeconds(1));
        open.add(g1);
        open.add(g0);
        Buffer b = host.upload(TensorType.of(DType.F32, 4), MemorySegment.ofArray(new float[] {1, 2, 3, 4}));
        open.add(b);
        // Both ranks meet once, so each has published progress #1.
        Future<?> first = threads.submit(() -> g1.barrier("start"));
        g0.barrier("start");
        first.get(10, TimeUnit.SECONDS);
        Thread.sleep(300); // a heartbeat period or more, so rank 1's #1 is on the store

        long t0 = System.nanoTime();
        CollectiveTimeoutException e = assertThrows(CollectiveTimeoutException.class, () -> g0.allReduceSum(b, "gradient bucket 1 of 1 at step 2"));
        double secs = (System.nanoTime() - t0) / 1e9;
        assertTrue(e.getMessage().contains("rank 0 of 2: allReduce(sum) of gradient bucket 1 of 1 at step 2 did not finish within 1 s"), e.getMessage());
        assertTrue(e.getMessage().contains("rank 1 (last seen at #1) has not arrived at #2"), e.getMessage());
        assertTrue(secs < 1 + 5 + 2, "took " + secs + " s");
        // The ring wakes its blocked call when aborted, so nothing is left writing into the buffer.
        assertFalse(g0.stuck());
        CollectiveException again = assertThrows(CollectiveException.class, () -> g0.allReduceSum(b, "the next step"));
        assertTrue(again.getMessage().contains("the group is broken since"), again.getMessage());
    }

    /** A transport that cannot be woken (MPI): the buffer must be left alone, and the blocked transport not closed under its call. */
    @Test void aCallThatNeverReturnsLeavesTheGroupStuck() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        Blocking inner = new Blocking(never);
        GuardedCollectives g = new GuardedCollectives(inner, null, "blocking", Duration.ofMillis(200));
        Buffer b = host.allocate(TensorType.of(DType.F32, 1));
        CollectiveTimeoutException e = assertThrows(CollectiveTimeoutException.class, () -> g.allReduceSum(b, "bucket"));
        assertTrue(e.getMessage().contains("no rendezvous to ask"), e.getMessage());
        assertTrue(g.stuck());
        assertTrue(inner.aborted);
        g.close();
        assertFalse(inner.closed, "a stuck transport was closed under its blocked call");
        never.countDown();
        b.close();
    }

    /** A transport whose call blocks until released: only a stand-in for MPI's uninterruptible collectives. */
    private static final class Blocking implements Collectives {
        private final CountDownLatch release;
        volatile boolean aborted, closed;

        Blocking(CountDownLatch release) { this.release = release; }

        @Override public int rank() { return 0; }

        @Override public int size() { return 2; }

        @Override public void allReduce(Buffer in, Buffer out) {
            try {
                release.await();
            } catch (InterruptedException e) {
                // as MPI: a blocked collective ignores interrupts
                Thread.currentThread().interrupt();
                try {
                    release.await();
                } catch (InterruptedException ignored) {
                    // released at the end of the test
                }
            }
        }

        @Override public void broadcast(Buffer in, Buffer out, int root) { throw new UnsupportedOperationException(); }

        @Override public void allGather(Buffer in, Buffer out) { throw new UnsupportedOperationException(); }

        @Override public void reduceScatter(Buffer in, Buffer out) { throw new UnsupportedOperationException(); }

        @Override public void barrier() { throw new UnsupportedOperationException(); }

        @Override public void abort() { aborted = true; }

        @Override public void close() { closed = true; }
    }

    @Test void describesItself() {
        Blocking inner = new Blocking(new CountDownLatch(0));
        try (GuardedCollectives g = new GuardedCollectives(inner, null, "blocking", Duration.ofSeconds(3))) {
            assertEquals("GuardedCollectives[blocking, rank 0 of 2, timeout 3 s]", g.toString());
        }
    }
}
