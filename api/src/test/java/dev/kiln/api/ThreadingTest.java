package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.internal.Internal;
import dev.kiln.api.internal.Lease;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The threading model of Kiln and Tensor, on the Java test plugin (the oneDNN stress test is in examples). */
class ThreadingTest {
    static Kiln open() { return Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    private static float[] work(Tensor x, Tensor w) {
        Tensor h = x.matmul(w).relu();
        float[] out = h.softmax(1).toFloatArray();
        h.close();
        return out;
    }

    @Test void eagerOpsFromManyThreadsGiveTheSingleThreadedResults() throws Exception {
        try (Kiln kiln = open()) {
            SplittableRandom r = new SplittableRandom(1);
            float[] xs = new float[8 * 6], ws = new float[6 * 5];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
            for (int i = 0; i < ws.length; i++) ws[i] = (float) r.nextGaussian();
            Tensor x = kiln.tensor(xs, 8, 6), w = kiln.tensor(ws, 6, 5);
            float[] want = work(x, w);
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; i < 200; i++) assertArrayEquals(want, work(x, w));
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread t : threads) t.join();
            assertTrue(failures.isEmpty(), failures.toString());
        }
    }

    @Test void aClosedTensorIsRefusedButAPinnedOneStaysReadableUntilReleased() {
        try (Kiln kiln = open()) {
            Tensor t = kiln.tensor(new float[] {1, 2, 3}, 3);
            Lease pinned = Internal.access().lease(t);
            t.close();
            t.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, t::toFloatArray);
            assertTrue(e.getMessage().contains("is closed"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> t.add(t));
            float[] back = new float[3];
            Internal.access().download(kiln, pinned.buffer(), MemorySegment.ofArray(back));
            assertArrayEquals(new float[] {1, 2, 3}, back, "an op that pinned the data before close() still reads it");
            pinned.close();
            assertTrue(t.toString().contains("closed"));
        }
    }

    @Test void closeWaitsForCallsInFlightAndThenRefusesNewOnes() throws Exception {
        Kiln kiln = open();
        Tensor x = kiln.tensor(new float[] {1, 2}, 2);
        Internal.access().enter(kiln); // as an op in flight on this thread
        Thread closer = Thread.ofPlatform().start(kiln::close);
        closer.join(300);
        assertTrue(closer.isAlive(), "close() waits for the call in flight");
        Internal.access().exit(kiln);
        closer.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(closer.isAlive());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.add(x));
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> kiln.tensor(new float[] {1}, 1));
        kiln.close();
    }

    @Test void closeFromInsideWorkFreesWhenTheWorkEnds() {
        Kiln kiln = open();
        Internal.access().enter(kiln);
        kiln.close(); // must not deadlock on its own thread's call
        assertThrows(IllegalStateException.class, () -> kiln.tensor(new float[] {1}, 1));
        Internal.access().exit(kiln);
        assertThrows(IllegalStateException.class, () -> kiln.tensor(new float[] {1}, 1));
    }
}
