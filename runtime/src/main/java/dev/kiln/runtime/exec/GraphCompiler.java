package dev.kiln.runtime.exec;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs the runtime's passes (decompose what the plugin does not fuse, spell the primitives it
 * declared unsupported in others or refuse the graph naming the one that cannot be, autocast to
 * the precision policy, dead-code elimination) and the plugin's compile, caching executables by graph signature
 * so eager ops and repeated tapes compile once.
 *
 * <p>Thread safety: {@link #run} may be called from any number of threads. An {@link Executable}
 * is confined to one thread at a time (the SPI's contract), so each cached one runs under its own
 * lock: different ops run in parallel, the same op from two threads takes turns. The cache is
 * bounded by entries and by the memory the executables report; an evicted executable is closed
 * only once no thread is running or about to run it.
 */
public final class GraphCompiler implements AutoCloseable {
    /** Default bound on the memory held by cached executables (their planned arenas), in bytes. */
    public static final long DEFAULT_CACHE_BYTES = 256L << 20;
    private static final int CACHE_ENTRIES = 4096;

    private final Accelerator accelerator;
    private final CompileOptions options;
    private final long cacheBytes;
    private final Map<String, Entry> cache = new LinkedHashMap<>(256, 0.75f, true);
    private long heldBytes;
    private boolean closed;

    public GraphCompiler(Accelerator accelerator, CompileOptions options) {
        this(accelerator, options, DEFAULT_CACHE_BYTES);
    }

    public GraphCompiler(Accelerator accelerator, CompileOptions options, long cacheBytes) {
        if (cacheBytes < 0) throw new IllegalArgumentException("executable cache bound must be >= 0 bytes, got " + cacheBytes);
        this.accelerator = accelerator;
        this.options = options;
        this.cacheBytes = cacheBytes;
    }

    /** Compiles without caching; the caller owns the result. */
    public Executable compile(Graph g) {
        return compile(g, options);
    }

    public Executable compile(Graph g, CompileOptions opts) {
        Capabilities caps = accelerator.capabilities();
        Graph lowered = Lowering.replaceUnsupported(Lowering.decompose(g, caps::isNative), caps::supports, accelerator.name());
        Graph cast = Autocast.apply(lowered, opts.precision());
        return accelerator.compile(Passes.deadCodeElimination(cast), opts);
    }

    /**
     * Runs {@code g} on {@code inputs} with the executable cached for its signature, compiling it
     * on first use; returns fresh output buffers owned by the caller.
     */
    public List<Buffer> run(Graph g, List<Buffer> inputs) {
        Entry e = acquire(g);
        try {
            e.lock.lock();
            try {
                return e.executable.run(inputs);
            } finally {
                e.lock.unlock();
            }
        } finally {
            release(e);
        }
    }

    /** The number of executables cached now, and the bytes they hold. */
    public synchronized long[] cacheSize() { return new long[] {cache.size(), heldBytes}; }

    private Entry acquire(Graph g) {
        String key = g.signature();
        synchronized (this) {
            checkOpen();
            Entry e = cache.get(key);
            if (e != null) {
                e.users++;
                return e;
            }
        }
        // Compile outside the lock so a slow compile does not stall other threads' cache hits.
        Executable compiled = compile(g);
        synchronized (this) {
            if (closed) {
                compiled.close();
                checkOpen();
            }
            Entry e = cache.get(key);
            if (e != null) { // another thread compiled it meanwhile
                compiled.close();
            } else {
                e = new Entry(compiled, Math.max(0, compiled.memoryBytes()));
                cache.put(key, e);
                heldBytes += e.bytes;
            }
            e.users++;
            evict(e);
            return e;
        }
    }

    private void release(Entry e) {
        boolean close;
        synchronized (this) {
            close = --e.users == 0 && e.evicted;
        }
        if (close) e.executable.close();
    }

    /** Drops least-recently-used entries over either bound, keeping {@code keep} (just used). */
    private void evict(Entry keep) {
        Iterator<Entry> it = cache.values().iterator();
        while ((cache.size() > CACHE_ENTRIES || heldBytes > cacheBytes) && it.hasNext()) {
            Entry e = it.next();
            if (e == keep) continue;
            it.remove();
            heldBytes -= e.bytes;
            e.evicted = true;
            if (e.users == 0) e.executable.close();
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the graph compiler of " + accelerator.name() + " is closed");
    }

    public Accelerator accelerator() { return accelerator; }

    public CompileOptions options() { return options; }

    /** Closes every cached executable; the caller makes sure none is running. */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Entry e : cache.values()) {
            e.evicted = true;
            if (e.users == 0) e.executable.close();
        }
        cache.clear();
        heldBytes = 0;
    }

    private static final class Entry {
        final Executable executable;
        final long bytes;
        final ReentrantLock lock = new ReentrantLock();
        /** Threads between {@link #acquire} and {@link #release}; guarded by the compiler. */
        int users;
        boolean evicted;

        Entry(Executable executable, long bytes) {
            this.executable = executable;
            this.bytes = bytes;
        }
    }
}
