package dev.kiln.spi;

import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Cleaner;

/**
 * A tensor in host memory, 64-byte aligned for vector units, freed on {@link #close()} or, as a
 * safety net, when it becomes unreachable. Used by CPU plugins and by {@link KernelAccelerator}.
 *
 * <p>Its segment belongs to a scope, normally its accelerator's shared arena: once the
 * accelerator closes, every access through the segment (a Java kernel's, a transfer's) throws
 * {@link IllegalStateException} instead of touching memory. A buffer's own {@link #close()} frees
 * at once and does not revoke segments already handed out — a shared arena per buffer would, but
 * closing one costs ~35 us (a handshake with every thread; measured on JDK 25), more than most
 * eager ops — so the runtime pins a buffer for the length of every call that uses it and frees
 * it only after the last one (see the api's {@code Tensor}).
 *
 * <p>A <em>constant</em> buffer ({@link #constant}) is filled once and read-only from then on: its
 * segment refuses Java writes, and {@link KernelAccelerator} refuses to copy into it or to bind it
 * as an executable's output, so a kernel may keep data derived from it (a packed weight layout)
 * for as long as it is handed the same segment.
 */
public final class HostBuffer implements Buffer {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE;

    static {
        Linker linker = Linker.nativeLinker();
        ALIGNED_ALLOC = linker.downcallHandle(linker.defaultLookup().find("aligned_alloc").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        FREE = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    }

    private final TensorType type;
    private final MemorySegment segment;
    private final Freer freer;
    private final Cleaner.Cleanable cleanable;

    private HostBuffer(TensorType type, MemorySegment segment) {
        this.type = type;
        this.segment = segment;
        this.freer = new Freer(segment.address());
        this.cleanable = CLEANER.register(this, freer);
    }

    /** A buffer whose segment lives until it is freed; prefer {@link #allocate(TensorType, Arena)}. */
    public static HostBuffer allocate(TensorType type) { return allocate(type, Arena.global()); }

    /** A buffer whose segment is valid only while {@code scope} is open (and the buffer is). */
    public static HostBuffer allocate(TensorType type, Arena scope) { return new HostBuffer(type, raw(type, scope)); }

    /**
     * A constant buffer holding a copy of {@code host} ({@code type.byteSize()} bytes), valid while
     * {@code scope} is open: its {@link #segment()} is read-only, and stays the same object for the
     * buffer's life, so it identifies these bytes.
     */
    public static HostBuffer constant(TensorType type, MemorySegment host, Arena scope) {
        MemorySegment raw = raw(type, scope);
        try {
            raw.copyFrom(host.asSlice(0, type.byteSize()));
        } catch (RuntimeException e) {
            new Freer(raw.address()).run();
            throw e;
        }
        return new HostBuffer(type, raw.asReadOnly());
    }

    /** Fresh, 64-byte aligned memory for {@code type}, not yet owned by a buffer. */
    private static MemorySegment raw(TensorType type, Arena scope) {
        long bytes = Math.max(64, (type.byteSize() + 63) & ~63L);
        MemorySegment raw;
        try {
            raw = (MemorySegment) ALIGNED_ALLOC.invokeExact(64L, bytes);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed", t);
        }
        if (raw.address() == 0) throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of host memory for " + type);
        return raw.reinterpret(type.byteSize(), scope, null);
    }

    @Override public TensorType type() { return type; }

    /** Whether this is a {@link #constant} buffer, whose bytes never change. */
    public boolean isConstant() { return segment.isReadOnly(); }

    /** The memory, read-only for a {@link #constant} buffer; valid until {@link #close()}. */
    public MemorySegment segment() {
        if (freer.freed) throw new IllegalStateException("buffer " + type + " is closed");
        return segment;
    }

    @Override public void close() { cleanable.clean(); }

    @Override public String toString() { return "HostBuffer" + type; }

    private static final class Freer implements Runnable {
        private final long address;
        private volatile boolean freed;

        Freer(long address) { this.address = address; }

        @Override public void run() {
            freed = true;
            try {
                FREE.invokeExact(MemorySegment.ofAddress(address));
            } catch (Throwable t) {
                throw new IllegalStateException("free failed", t);
            }
        }
    }
}
