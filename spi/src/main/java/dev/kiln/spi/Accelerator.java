package dev.kiln.spi;

import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** An opened plugin: memory, host transfers and compilation. Closing frees everything it owns. */
public interface Accelerator extends AutoCloseable {
    String name();

    List<Device> devices();

    Capabilities capabilities();

    /**
     * The supported precision policies in the order this plugin finds them fast on its device,
     * fastest first, as it measures or knows them: {@code Precision.auto()} takes the first. A
     * CPU flag says an instruction exists, not that it pays (bf16 on AVX512_BF16 without AMX
     * runs no faster than f32). Empty, the default, leaves the choice to the runtime's order.
     */
    default List<PrecisionPolicy> fastestPrecisions() { return List.of(); }

    /** Uninitialised device memory for one tensor. */
    Buffer allocate(TensorType type);

    /** A new buffer holding a copy of {@code host}, which has {@code type.byteSize()} bytes in row-major order. */
    Buffer upload(TensorType type, MemorySegment host);

    /**
     * As {@link #upload}, for data that is never written again (a quantized layer's weights): the
     * plugin may refuse to overwrite the buffer (with {@link #copyIn} or as an executable's output)
     * and may keep data derived from it, such as a packed layout, for the buffer's life. By default
     * an ordinary upload.
     */
    default Buffer uploadConstant(TensorType type, MemorySegment host) { return upload(type, host); }

    /**
     * Overwrites {@code dst} with {@code host} ({@code dst.type().byteSize()} bytes, row-major), so a
     * training loop refills the same input buffers every step instead of uploading new ones.
     */
    default void copyIn(MemorySegment host, Buffer dst) {
        throw new UnsupportedOperationException(name() + " cannot copy into an existing buffer");
    }

    /** Copies {@code buffer} into {@code host} (row-major, {@code byteSize()} bytes). */
    void download(Buffer buffer, MemorySegment host);

    /**
     * Compiles a graph of primitives and the composites this accelerator reports as native.
     * Errors in the graph raise {@link IllegalArgumentException} naming the node.
     */
    Executable compile(Graph graph, CompileOptions options);

    /**
     * Joins a process group of {@code size} ranks for collectives on this accelerator's device.
     * {@code groupId} is what rank 0's {@link #newCollectiveGroupId()} returned, shared with the
     * other ranks out of band; it may be {@code null} for a group of one. Plugins without
     * collectives (see {@link Capabilities#collectives()}) throw {@link UnsupportedOperationException}.
     */
    default Collectives collectives(int rank, int size, byte[] groupId) {
        throw new UnsupportedOperationException(name() + " has no collectives");
    }

    /** A fresh rendezvous token for {@link #collectives}, made once by rank 0. */
    default byte[] newCollectiveGroupId() {
        throw new UnsupportedOperationException(name() + " has no collectives");
    }

    @Override void close();
}
