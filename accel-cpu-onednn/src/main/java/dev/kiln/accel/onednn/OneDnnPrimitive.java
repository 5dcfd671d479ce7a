package dev.kiln.accel.onednn;

import static dev.kiln.accel.onednn.OneDnnNative.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.kiln.spi.Kernel;
import java.lang.foreign.MemorySegment;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.Pointer;

/**
 * A oneDNN primitive created once, with one memory object per argument. A run only points the
 * memory objects at the kernel's segments and executes: nothing native is allocated per run.
 * Arguments are bound in order: the kernel's inputs, then its outputs.
 */
final class OneDnnPrimitive implements Kernel, AutoCloseable {
    private final OneDnnEngine engine;
    private final String what;
    private final dnnl_primitive primitive = new dnnl_primitive();
    private final dnnl_memory[] memories;
    private final dnnl_exec_arg_t args;
    private final int inputs;
    private final Handle handle = new Handle();
    /** 1 for small primitives, else 0 (the engine's thread count). */
    private int threadCap;

    /**
     * Below this many bytes of operands a primitive runs on the calling thread alone: waking
     * OpenMP's workers costs more than they save (a 32x784x128 matmul took 72 us on one thread
     * and 130 us on two here), and the second core stays free for batch preparation.
     */
    private static final long SMALL_BYTES = Long.getLong("kiln.onednn.smallBytes", 2L << 20);

    /**
     * Creates the primitive from {@code pd} (destroyed here whatever happens) and binds {@code argKinds[i]}
     * to a memory object of {@code mds[i]}; the first {@code inputs} of them come from {@code in}.
     */
    OneDnnPrimitive(OneDnnEngine engine, String what, dnnl_primitive_desc pd, int[] argKinds, dnnl_memory_desc[] mds, int inputs) {
        this.engine = engine;
        this.what = what;
        this.inputs = inputs;
        this.memories = new dnnl_memory[argKinds.length];
        this.args = new dnnl_exec_arg_t(argKinds.length);
        long bytes = 0;
        for (dnnl_memory_desc md : mds) bytes += dnnl_memory_desc_get_size(md);
        this.threadCap = bytes < SMALL_BYTES ? 1 : 0;
        try {
            check(dnnl_primitive_create(primitive, pd), what);
            for (int i = 0; i < argKinds.length; i++) {
                memories[i] = new dnnl_memory();
                check(dnnl_memory_create(memories[i], mds[i], engine.engine, (Pointer) null), what);
                args.position(i).arg(argKinds[i]).memory(memories[i]);
            }
            args.position(0);
        } catch (RuntimeException e) {
            release();
            throw e;
        } finally {
            dnnl_primitive_desc_destroy(pd);
        }
        engine.own(this);
    }

    /** Sets the thread count of the next runs: 1 for the calling thread alone, 0 for the engine's count. */
    void capThreads(int cap) { threadCap = cap; }

    @Override public void run(MemorySegment[] in, MemorySegment[] out) {
        // Executables may outlive their accelerator; a freed primitive must fail in Java, not crash the JVM.
        if (primitive.isNull()) throw new IllegalStateException("onednn accelerator is closed; cannot run " + what);
        engine.enter(threadCap);
        for (int i = 0; i < memories.length; i++) {
            MemorySegment s = i < inputs ? in[i] : out[i - inputs];
            handle.at(s.address());
            check(dnnl_memory_set_data_handle(memories[i], handle), what);
        }
        dnnl_stream stream = engine.stream();
        check(dnnl_primitive_execute(primitive, stream, memories.length, args), what);
        check(dnnl_stream_wait(stream), what);
    }

    /** Frees the primitive now (its executable closed) rather than when the accelerator closes; idempotent. */
    @Override public void close() {
        engine.disown(this);
        release();
    }

    /** Destroys the native objects; called by {@link #close()} or by the engine when it closes. */
    void release() {
        if (args.isNull()) return;
        for (dnnl_memory m : memories) {
            if (m != null && !m.isNull()) dnnl_memory_destroy(m);
            if (m != null) m.setNull();
        }
        if (!primitive.isNull()) dnnl_primitive_destroy(primitive);
        primitive.setNull();
        args.close();
    }

    /** oneDNN's name for the implementation running this primitive ({@code brg_matmul:avx512_core}). */
    String implementation() {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_primitive_get_primitive_desc(primitive, pd), what);
        return OneDnnTuner.implementation(pd);
    }

    @Override public String toString() { return "oneDNN " + what; }

    /** A reusable pointer whose address is set per run, so binding a segment allocates nothing. */
    private static final class Handle extends Pointer {
        void at(long address) { this.address = address; }
    }
}
