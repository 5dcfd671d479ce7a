package dev.kiln.accel.xla.pjrt;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** {@code PJRT_Event}s are owned by the caller: each is awaited and then always destroyed. */
final class PjrtEvents {
    private PjrtEvents() {}

    /** Blocks until {@code event} is ready, destroys it, and throws its error if it carried one. */
    static void awaitAndDestroy(PjrtApi api, MemorySegment event, String during) {
        if (event.equals(MemorySegment.NULL)) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment await = PjrtApi.args(arena, PjrtLayouts.EVENT_AWAIT_ARGS);
            await.set(ADDRESS, PjrtErrors.offset(PjrtLayouts.EVENT_AWAIT_ARGS, "event"), event);
            PjrtException failure = null;
            try {
                api.call("PJRT_Event_Await", await, during);
            } catch (PjrtException e) {
                failure = e;
            }
            try {
                destroy(api, arena, event, during);
            } catch (PjrtException e) {
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
            if (failure != null) throw failure;
        }
    }

    private static void destroy(PjrtApi api, Arena arena, MemorySegment event, String during) {
        MemorySegment args = PjrtApi.args(arena, PjrtLayouts.EVENT_DESTROY_ARGS);
        args.set(ADDRESS, PjrtErrors.offset(PjrtLayouts.EVENT_DESTROY_ARGS, "event"), event);
        api.call("PJRT_Event_Destroy", args, during);
    }
}
