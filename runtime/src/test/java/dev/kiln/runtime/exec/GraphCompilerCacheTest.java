package dev.kiln.runtime.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The eager executable cache: bounded by bytes, never closing what runs, one thread per executable at a time. */
class GraphCompilerCacheTest {
    /** Executables that count their runs and closes, report 100 bytes each and may block inside run. */
    static final class Recording implements Accelerator {
        final List<Fake> made = new ArrayList<>();
        volatile CountDownLatch entered, release;

        final class Fake implements Executable {
            final AtomicInteger running = new AtomicInteger(), overlaps = new AtomicInteger();
            volatile boolean closed;

            @Override public List<Buffer> run(List<Buffer> inputs) {
                if (closed) throw new IllegalStateException("ran after close");
                if (running.incrementAndGet() > 1) overlaps.incrementAndGet();
                try {
                    CountDownLatch e = entered, r = release;
                    if (e != null) e.countDown();
                    if (r != null) r.await(30, TimeUnit.SECONDS);
                    Thread.onSpinWait();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                } finally {
                    running.decrementAndGet();
                }
                return List.of();
            }

            @Override public long memoryBytes() { return 100; }

            @Override public void close() {
                if (running.get() > 0) throw new AssertionError("closed while running");
                closed = true;
            }
        }

        @Override public String name() { return "recording"; }
        @Override public List<Device> devices() { return List.of(); }
        @Override public Capabilities capabilities() { return new Capabilities(Set.of(DType.F32), Set.of(), Set.of(PrecisionPolicy.FP32), false); }
        @Override public Buffer allocate(TensorType type) { throw new UnsupportedOperationException(); }
        @Override public Buffer upload(TensorType type, MemorySegment host) { throw new UnsupportedOperationException(); }
        @Override public void download(Buffer buffer, MemorySegment host) { throw new UnsupportedOperationException(); }
        @Override public synchronized Executable compile(Graph graph, CompileOptions options) {
            Fake f = new Fake();
            made.add(f);
            return f;
        }
        @Override public void close() {}
    }

    /** A distinct one-node graph per {@code n}. */
    static Graph graph(int n) {
        Graph.Builder b = Graph.builder();
        Value x = b.input(TensorType.of(DType.F32, n + 1));
        return b.build(List.of(b.unary(Primitive.UnaryFn.EXP, x)));
    }

    @Test void theCacheIsBoundedByBytesAndEvictsTheLeastRecentlyUsed() {
        Recording acc = new Recording();
        try (GraphCompiler c = new GraphCompiler(acc, CompileOptions.defaults(), 350)) {
            for (int i = 0; i < 10; i++) c.run(graph(i), List.of());
            assertEquals(3, c.cacheSize()[0]);
            assertEquals(300, c.cacheSize()[1]);
            assertEquals(10, acc.made.size());
            for (int i = 0; i < 7; i++) assertTrue(acc.made.get(i).closed, "evicted executable " + i + " is closed");
            c.run(graph(9), List.of());
            assertEquals(10, acc.made.size(), "a hit compiles nothing");
        }
        assertTrue(acc.made.stream().allMatch(f -> f.closed), "close() closes the rest");
    }

    @Test void anEvictedExecutableIsClosedOnlyAfterItsRunEnds() throws Exception {
        Recording acc = new Recording();
        GraphCompiler c = new GraphCompiler(acc, CompileOptions.defaults(), 100);
        acc.entered = new CountDownLatch(1);
        acc.release = new CountDownLatch(1);
        Thread t = Thread.ofPlatform().start(() -> c.run(graph(0), List.of()));
        assertTrue(acc.entered.await(30, TimeUnit.SECONDS));
        acc.entered = null;
        CountDownLatch release = acc.release;
        acc.release = null;
        c.run(graph(1), List.of()); // evicts graph 0's executable while it runs
        assertFalse(acc.made.get(0).closed, "still running");
        release.countDown();
        t.join();
        assertTrue(acc.made.get(0).closed, "closed by its last user");
        c.close();
        assertThrows(IllegalStateException.class, () -> c.run(graph(2), List.of()));
    }

    @Test void oneExecutableRunsOnOneThreadAtATime() throws Exception {
        Recording acc = new Recording();
        try (GraphCompiler c = new GraphCompiler(acc, CompileOptions.defaults())) {
            c.run(graph(0), List.of()); // compiled once up front: two first misses at once may both compile (one is dropped)
            List<Thread> ts = new ArrayList<>();
            for (int k = 0; k < 4; k++) ts.add(Thread.ofPlatform().start(() -> { for (int i = 0; i < 2000; i++) c.run(graph(0), List.of()); }));
            for (Thread t : ts) t.join();
            assertEquals(1, acc.made.size());
            assertEquals(0, acc.made.getFirst().overlaps.get());
        }
    }
}
