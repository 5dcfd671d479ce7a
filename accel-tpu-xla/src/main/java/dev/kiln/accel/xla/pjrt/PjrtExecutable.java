package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@code PJRT_LoadedExecutable} compiled for one device. {@link #execute} takes device-resident
 * buffers and returns new ones; an argument the module marks as aliased to an output
 * ({@code tf.aliasing_output}) is donated: PJRT reuses its memory for that output and deletes it.
 */
public final class PjrtExecutable implements AutoCloseable {
    private final PjrtClient client;
    private final MemorySegment loaded;
    private final int outputs;
    private final AtomicBoolean closed = new AtomicBoolean();

    PjrtExecutable(PjrtClient client, MemorySegment loaded) {
        this.client = client;
        this.loaded = loaded;
        this.outputs = numOutputs(client.api(), loaded);
    }

    public int numOutputs() { return outputs; }

    /**
     * Runs on {@code device} and waits for it to finish.
     *
     * @param nonDonatable argument indices PJRT must not donate even if the module allows it
     * @return the outputs, owned by the caller
     */
    public List<PjrtBuffer> execute(PjrtDevice device, List<PjrtBuffer> arguments, long[] nonDonatable) {
        return execute(device, arguments, nonDonatable, false);
    }

    /**
     * Launches this replica's share of an executable compiled for several replicas, on
     * {@code device} alone ({@code execute_device}); it returns when every replica has been launched
     * by its own caller and this one is done. The caller of each replica is a different thread.
     */
    public List<PjrtBuffer> executeReplica(PjrtDevice device, List<PjrtBuffer> arguments) {
        return execute(device, arguments, new long[0], true);
    }

    private List<PjrtBuffer> execute(PjrtDevice device, List<PjrtBuffer> arguments, long[] nonDonatable, boolean onDevice) {
        if (closed.get()) throw new IllegalStateException("this PJRT executable is closed");
        client.checkOpen();
        PjrtApi api = client.api();
        var s = PjrtLayouts.LOADED_EXECUTABLE_EXECUTE_ARGS;
        var o = PjrtLayouts.EXECUTE_OPTIONS;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment argList = arena.allocate(ADDRESS, Math.max(1, arguments.size()));
            for (int i = 0; i < arguments.size(); i++) argList.setAtIndex(ADDRESS, i, arguments.get(i).handle());
            MemorySegment outList = arena.allocate(ADDRESS, Math.max(1, outputs));
            MemorySegment options = o.allocate(arena);
            if (nonDonatable.length > 0) {
                o.set(options, "non_donatable_input_indices", arena.allocateFrom(JAVA_LONG, nonDonatable));
                o.set(options, "num_non_donatable_input_indices", nonDonatable.length);
            }
            MemorySegment args = s.allocate(arena);
            s.set(args, "executable", loaded);
            s.set(args, "options", options);
            s.set(args, "argument_lists", pointers(arena, argList));
            s.set(args, "num_devices", 1);
            s.set(args, "num_args", arguments.size());
            s.set(args, "output_lists", pointers(arena, outList));
            MemorySegment done = arena.allocate(ADDRESS);
            s.set(args, "device_complete_events", done);
            if (onDevice) s.set(args, "execute_device", device.handle());
            String during = "executing on " + device;
            api.call("PJRT_LoadedExecutable_Execute", args, during);
            List<PjrtBuffer> results = new ArrayList<>(outputs);
            for (int i = 0; i < outputs; i++) results.add(client.adopt(outList.getAtIndex(ADDRESS, i), device));
            try {
                PjrtEvents.awaitAndDestroy(api, done.get(ADDRESS, 0), during);
            } catch (RuntimeException | Error e) {
                for (PjrtBuffer b : results) {
                    try { b.close(); } catch (RuntimeException x) { e.addSuppressed(x); }
                }
                throw e;
            }
            return results;
        }
    }

    private static MemorySegment pointers(Arena arena, MemorySegment one) {
        MemorySegment outer = arena.allocate(ADDRESS);
        outer.set(ADDRESS, 0, one);
        return outer;
    }

    /** {@code PJRT_LoadedExecutable_Destroy}; idempotent. */
    @Override public void close() {
        if (!closed.compareAndSet(false, true)) return;
        client.forget(this);
        destroyLoaded(client.api(), loaded, null);
    }

    static void destroyLoaded(PjrtApi api, MemorySegment loaded, Throwable pending) {
        if (loaded.equals(MemorySegment.NULL)) return;
        try (Arena arena = Arena.ofConfined()) {
            var s = PjrtLayouts.LOADED_EXECUTABLE_DESTROY_ARGS;
            MemorySegment args = s.allocate(arena);
            s.set(args, "executable", loaded);
            api.call("PJRT_LoadedExecutable_Destroy", args);
        } catch (RuntimeException e) {
            if (pending == null) throw e;
            pending.addSuppressed(e);
        }
    }

    /** Through the {@code PJRT_Executable} view, which is ours to destroy. */
    private static int numOutputs(PjrtApi api, MemorySegment loaded) {
        try (Arena arena = Arena.ofConfined()) {
            var g = PjrtLayouts.LOADED_EXECUTABLE_GET_EXECUTABLE_ARGS;
            MemorySegment get = g.allocate(arena);
            g.set(get, "loaded_executable", loaded);
            api.call("PJRT_LoadedExecutable_GetExecutable", get);
            MemorySegment executable = g.pointer(get, "executable");
            long n;
            try {
                var c = PjrtLayouts.EXECUTABLE_NUM_OUTPUTS_ARGS;
                MemorySegment count = c.allocate(arena);
                c.set(count, "executable", executable);
                api.call("PJRT_Executable_NumOutputs", count);
                n = c.size(count, "num_outputs");
            } finally {
                var d = PjrtLayouts.EXECUTABLE_DESTROY_ARGS;
                MemorySegment destroy = d.allocate(arena);
                d.set(destroy, "executable", executable);
                api.call("PJRT_Executable_Destroy", destroy);
            }
            if (n < 0 || n > Integer.MAX_VALUE) throw new IllegalStateException("PJRT_Executable_NumOutputs reported " + n);
            return (int) n;
        }
    }
}
