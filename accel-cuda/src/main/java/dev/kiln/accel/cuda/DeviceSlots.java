package dev.kiln.accel.cuda;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The static device memory of one executable's intermediate values, reused by liveness: once the
 * last step reading a value is planned, its block goes back to a free list and the next value of
 * the same (256-byte rounded) size takes it. Steps run in plan order on one stream, so a block is
 * only ever rewritten after its last reader ran; a CUDA graph captures the same addresses.
 */
final class DeviceSlots {
    private final CudaKernels k;
    private final Map<Long, Deque<Long>> free = new HashMap<>();
    private final Map<Long, Long> sizeOf = new HashMap<>();
    private long allocated;

    DeviceSlots(CudaKernels k) { this.k = k; }

    long take(long bytes) {
        long size = Math.max(256, (bytes + 255) & ~255L);
        Deque<Long> d = free.get(size);
        if (d != null && !d.isEmpty()) return d.pop();
        long a = k.allocate(size);
        sizeOf.put(a, size);
        allocated += size;
        return a;
    }

    /** Returns a block from {@link #take}; addresses from elsewhere (input slots, scratch) are ignored. */
    void give(long address) {
        Long size = sizeOf.get(address);
        if (size != null) free.computeIfAbsent(size, x -> new ArrayDeque<>()).push(address);
    }

    /** Bytes of distinct blocks, for diagnostics. */
    long allocated() { return allocated; }
}
