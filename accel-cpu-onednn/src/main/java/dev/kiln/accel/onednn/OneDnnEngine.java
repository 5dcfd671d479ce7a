package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.LinkedHashSet;
import java.util.Set;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_stream;

/**
 * One CPU engine and one stream per accelerator, plus every primitive created on them that is still
 * open: a primitive is freed when its executable closes, and at the latest when the accelerator does.
 */
final class OneDnnEngine implements AutoCloseable {
    /** OpenMP's thread count is per calling thread; remember what each thread was last set to. */
    private static final ThreadLocal<int[]> THREADS_SET = ThreadLocal.withInitial(() -> new int[] {-1});

    final dnnl_engine engine = new dnnl_engine();
    final dnnl_stream stream = new dnnl_stream();
    private final int threads;
    private final Set<OneDnnPrimitive> primitives = new LinkedHashSet<>();
    private boolean closed;

    OneDnnEngine(int threads) {
        OneDnnNative.load();
        this.threads = threads > 0 ? threads : OneDnnNative.defaultThreads();
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "creating the CPU engine");
        int status = dnnl_stream_create(stream, engine, dnnl_stream_default_flags);
        if (status != dnnl_success) {
            dnnl_engine_destroy(engine);
            check(status, "creating a stream");
        }
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

    synchronized void own(OneDnnPrimitive p) {
        if (closed) {
            p.close();
            throw new IllegalStateException("oneDNN accelerator is closed");
        }
        primitives.add(p);
    }

    synchronized void disown(OneDnnPrimitive p) { primitives.remove(p); }

    synchronized boolean isClosed() { return closed; }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        for (OneDnnPrimitive p : primitives) p.release();
        primitives.clear();
        dnnl_stream_destroy(stream);
        dnnl_engine_destroy(engine);
    }
}
