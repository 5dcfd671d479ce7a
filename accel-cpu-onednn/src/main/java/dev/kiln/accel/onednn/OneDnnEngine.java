package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_stream;

/**
 * One CPU engine per accelerator, a stream per thread that executes on it, and every primitive
 * created on them that is still open: a primitive is freed when its executable closes, and at the
 * latest when the accelerator does. Streams are per thread because a oneDNN stream must not be
 * used by two threads at once, while executables on one engine may run on several.
 */
final class OneDnnEngine implements AutoCloseable {
    /** OpenMP's thread count is per calling thread; remember what each thread was last set to. */
    private static final ThreadLocal<int[]> THREADS_SET = ThreadLocal.withInitial(() -> new int[] {-1});

    final dnnl_engine engine = new dnnl_engine();
    private final ThreadLocal<dnnl_stream> streams = new ThreadLocal<>();
    /** Every stream made, to destroy at close (a thread that dies keeps its stream until then). */
    private final List<dnnl_stream> allStreams = new ArrayList<>();
    private final int threads;
    private final Set<OneDnnPrimitive> primitives = new LinkedHashSet<>();
    private volatile boolean closed;

    OneDnnEngine(int threads) {
        OneDnnNative.load();
        this.threads = threads > 0 ? threads : OneDnnNative.defaultThreads();
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "creating the CPU engine");
    }

    /** The threads a primitive runs on unless capped. */
    int threads() { return threads; }

    /** The calling thread's stream on this engine, made on first use. */
    dnnl_stream stream() {
        dnnl_stream s = streams.get();
        if (s != null && !closed) return s;
        synchronized (this) {
            if (closed) throw new IllegalStateException("oneDNN accelerator is closed");
            s = new dnnl_stream();
            check(dnnl_stream_create(s, engine, dnnl_stream_default_flags), "creating a stream");
            allStreams.add(s);
        }
        streams.set(s);
        return s;
    }

    /** Called before each execution so the thread count ({@code cap} if positive, at most the configured one) holds on whichever thread runs. */
    void enter(int cap) {
        int want = cap > 0 ? Math.min(cap, threads) : threads;
        int[] set = THREADS_SET.get();
        if (set[0] != want) {
            OneDnnNative.setThreads(want);
            set[0] = want;
        }
    }

    /**
     * Called before creating primitives. oneDNN splits a primitive's work for the thread count in
     * force when its descriptor is created, and a primitive created for one thread stays on one
     * whatever count it later runs under (a 128x784x128 matmul created under 1 thread took 140-159
     * us run under 2, as under 1; created under 2, 121 us under 2 and 138-157 us under 1, as one
     * created for 1). So every primitive is created for the engine's count, and small ones are
     * capped when they run ({@link OneDnnPrimitive}); otherwise whichever small primitive ran last
     * on the compiling thread (the tuner's timing runs, the previous step) left the next
     * executable's large primitives on one thread.
     */
    void enterCreation() { enter(0); }

    /** The thread count this thread last set for oneDNN, -1 before any (libgomp's default: all). */
    int threadsInForce() { return THREADS_SET.get()[0]; }

    synchronized void own(OneDnnPrimitive p) {
        if (closed) {
            p.close();
            throw new IllegalStateException("oneDNN accelerator is closed");
        }
        primitives.add(p);
    }

    synchronized void disown(OneDnnPrimitive p) { primitives.remove(p); }

    boolean isClosed() { return closed; }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        for (OneDnnPrimitive p : primitives) p.release();
        primitives.clear();
        for (dnnl_stream s : allStreams) dnnl_stream_destroy(s);
        allStreams.clear();
        dnnl_engine_destroy(engine);
    }
}
