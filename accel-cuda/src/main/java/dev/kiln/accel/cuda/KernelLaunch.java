package dev.kiln.accel.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.PointerPointer;

/**
 * One kernel launch with its arguments fixed at compile time. The argument block lives as long as
 * the executable: a CUDA graph copies it at capture, a direct launch at each enqueue. Each
 * argument takes an 8-byte-aligned slot; a {@link #dims} argument is the kernel's {@code Dims}
 * struct ({@code long long d[8]}, passed by value).
 */
final class KernelLaunch implements Step {
    static final int MAX_RANK = 8;
    private static final int BLOCK = 256;

    private final String name;
    private final CUfunc_st function;
    private final List<Object> args = new ArrayList<>();
    private int gridX = 1, blockX = BLOCK, shared;
    private MemorySegment params;
    /**
     * The argument array as {@code void**}. It must be a PointerPointer: JavaCPP passes a plain
     * {@code Pointer} given for a {@code void**} parameter as an out-parameter (the address of
     * its address), which the driver rejects as an invalid value.
     */
    private PointerPointer<?> kernelParams;

    KernelLaunch(String name, CUfunc_st function) {
        this.name = name;
        this.function = function;
    }

    KernelLaunch ptr(long address) { args.add(new Ptr(address)); return this; }

    KernelLaunch i64(long v) { args.add(v); return this; }

    KernelLaunch i32(int v) { args.add(v); return this; }

    KernelLaunch f64(double v) { args.add(v); return this; }

    KernelLaunch dims(long[] v) {
        if (v.length > MAX_RANK) throw new IllegalArgumentException(name + ": rank " + v.length + " exceeds " + MAX_RANK);
        args.add(v.clone());
        return this;
    }

    /** One thread per element, grid-striding beyond a few waves. */
    KernelLaunch elements(long n, int multiprocessors) {
        long blocks = (n + BLOCK - 1) / BLOCK;
        gridX = (int) Math.max(1, Math.min(blocks, (long) multiprocessors * 32));
        blockX = BLOCK;
        return this;
    }

    KernelLaunch grid(int blocks, int threads, int sharedBytes) {
        gridX = Math.max(1, blocks);
        blockX = threads;
        shared = sharedBytes;
        return this;
    }

    /** Lays the arguments out in {@code arena}; call once, after the last argument. */
    KernelLaunch seal(Arena arena) {
        MemorySegment slots = arena.allocate(64L * args.size(), 16);
        params = arena.allocate(8L * Math.max(1, args.size()), 8);
        for (int i = 0; i < args.size(); i++) {
            MemorySegment slot = slots.asSlice(64L * i, 64);
            switch (args.get(i)) {
                case Ptr p -> slot.set(ValueLayout.JAVA_LONG, 0, p.address());
                case Long v -> slot.set(ValueLayout.JAVA_LONG, 0, v);
                case Integer v -> slot.set(ValueLayout.JAVA_INT, 0, v);
                case Double v -> slot.set(ValueLayout.JAVA_DOUBLE, 0, v);
                case long[] d -> { for (int j = 0; j < d.length; j++) slot.setAtIndex(ValueLayout.JAVA_LONG, j, d[j]); }
                default -> throw new IllegalStateException("bad kernel argument " + args.get(i));
            }
            params.setAtIndex(ValueLayout.ADDRESS, i, slot);
        }
        kernelParams = new PointerPointer<>(new DevicePointer(params.address()));
        return this;
    }

    @Override public void enqueue(CudaStream stream) {
        CudaCheck.cu(cudart.cuLaunchKernel(function, gridX, 1, 1, blockX, 1, 1, shared, stream.handle(),
                kernelParams, (PointerPointer<?>) null), "cuLaunchKernel(" + name + ")");
    }

    private record Ptr(long address) {}
}
