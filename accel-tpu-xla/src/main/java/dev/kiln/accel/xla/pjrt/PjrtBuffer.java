package dev.kiln.accel.xla.pjrt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@code PJRT_Buffer}: one array in a device's memory, owned by Kiln until {@link #close}.
 * A buffer donated to an execution is deleted by PJRT but must still be closed here.
 */
public final class PjrtBuffer implements AutoCloseable {
    private final PjrtClient client;
    private final MemorySegment handle;
    private final PjrtDevice device;
    private final AtomicBoolean closed = new AtomicBoolean();

    PjrtBuffer(PjrtClient client, MemorySegment handle, PjrtDevice device) {
        this.client = client;
        this.handle = handle;
        this.device = device;
    }

    MemorySegment handle() {
        if (closed.get()) throw new IllegalStateException("this PJRT buffer is closed");
        return handle;
    }

    public PjrtDevice device() { return device; }

    /**
     * Copies the buffer into {@code host} (row-major, exactly the buffer's size; native or heap)
     * and waits for the copy.
     */
    public void download(MemorySegment host) {
        client.checkOpen();
        var s = PjrtLayouts.BUFFER_TO_HOST_BUFFER_ARGS;
        PjrtApi api = client.api();
        try (Arena arena = Arena.ofConfined()) {
            // First call with dst NULL asks for the size, so a wrong-sized host segment fails here.
            MemorySegment query = s.allocate(arena);
            s.set(query, "src", handle());
            api.call("PJRT_Buffer_ToHostBuffer", query, "sizing a download from " + device);
            long size = s.size(query, "dst_size");
            if (size != host.byteSize())
                throw new IllegalArgumentException("PJRT buffer on " + device + " holds " + size + " bytes; the host segment has " + host.byteSize());
            MemorySegment dst = host.isNative() && !host.isReadOnly() ? host : arena.allocate(size, 64);
            MemorySegment args = s.allocate(arena);
            s.set(args, "src", handle());
            s.set(args, "dst", dst);
            s.set(args, "dst_size", size);
            String during = "downloading " + size + " bytes from " + device;
            api.call("PJRT_Buffer_ToHostBuffer", args, during);
            PjrtEvents.awaitAndDestroy(api, s.pointer(args, "event"), during);
            if (dst != host) host.copyFrom(dst);
        }
    }

    /** {@code PJRT_Buffer_Destroy}; idempotent. */
    @Override public void close() {
        if (!closed.compareAndSet(false, true)) return;
        client.forget(this);
        destroy(client.api(), handle, null);
    }

    static void destroy(PjrtApi api, MemorySegment handle, Throwable pending) {
        if (handle.equals(MemorySegment.NULL)) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = PjrtLayouts.BUFFER_DESTROY_ARGS.allocate(arena);
            PjrtLayouts.BUFFER_DESTROY_ARGS.set(args, "buffer", handle);
            api.call("PJRT_Buffer_Destroy", args);
        } catch (RuntimeException e) {
            if (pending == null) throw e;
            pending.addSuppressed(e);
        }
    }
}
