package dev.kiln.spi;

import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The base of a simple host-memory plugin: supply one {@link Kernel} per primitive (and, if you
 * like, per composite) and get a working sequential {@code compile}. Composites without a kernel
 * are decomposed; a {@link #fuse} hook may rewrite the graph first. Intermediates live in an arena
 * planned by liveness at compile time, so running a compiled graph allocates nothing.
 */
public abstract class KernelAccelerator implements Accelerator {
    /** The scope of every segment this accelerator hands out; closed with it. */
    private final Arena scope = Arena.ofShared();

    /** The kernel for {@code node}, or {@code null} when this plugin has none (composites then decompose). */
    protected abstract Kernel kernel(Node node, CompileOptions options);

    @Override public Buffer allocate(TensorType type) { return HostBuffer.allocate(type, scope); }

    /** The arena whose closing revokes this accelerator's memory, for plugins that allocate their own {@link HostBuffer}s. */
    protected final Arena memoryScope() { return scope; }

    @Override public Buffer upload(TensorType type, MemorySegment host) {
        HostBuffer b = HostBuffer.allocate(type, scope);
        b.segment().copyFrom(host.asSlice(0, type.byteSize()));
        return b;
    }

    /** A read-only buffer (see {@link HostBuffer#constant}): {@link #copyIn} and executables refuse to write it. */
    @Override public Buffer uploadConstant(TensorType type, MemorySegment host) { return HostBuffer.constant(type, host, scope); }

    @Override public void copyIn(MemorySegment host, Buffer dst) {
        writable(dst, "copyIn").segment().copyFrom(host.asSlice(0, dst.type().byteSize()));
    }

    @Override public void download(Buffer buffer, MemorySegment host) {
        MemorySegment.copy(host(buffer).segment(), 0, host, 0, buffer.type().byteSize());
    }

    /** The host buffer behind {@code b}; fails clearly if it came from another accelerator. */
    protected static HostBuffer host(Buffer b) {
        if (b instanceof HostBuffer h) return h;
        throw new IllegalArgumentException("buffer " + b.type() + " does not belong to a host-memory accelerator");
    }

    /** The host buffer behind {@code b}, which {@code what} is about to write; refuses a constant one. */
    protected static HostBuffer writable(Buffer b, String what) {
        HostBuffer h = host(b);
        if (h.isConstant()) throw new IllegalArgumentException(what + ": buffer " + b.type() + " is a constant (uploadConstant) and cannot be written");
        return h;
    }

    /**
     * The plugin's fusion pass over the lowered graph (primitives and native composites), run when
     * {@link CompileOptions#fusion()} is on; the result may contain the plugin's {@link dev.kiln.spi.ir.Fused}
     * ops, for which {@link #kernel} must then return kernels. Default: no fusion.
     */
    protected Graph fuse(Graph lowered, CompileOptions options) { return lowered; }

    /**
     * Revokes every segment this accelerator handed out, so that a kernel or transfer still
     * holding one after the close fails in Java rather than reading freed memory. A subclass that
     * overrides this calls {@code super.close()} after freeing its own resources.
     */
    @Override public void close() {
        if (scope.scope().isAlive()) scope.close();
    }

    @Override public Executable compile(Graph graph, CompileOptions options) {
        for (Node n : graph.nodes()) n.checkTypes();
        // Native composites are fusion too: with fusion off everything runs as primitives, so the two can be compared.
        // Decomposing may bring primitives the plugin declared unsupported: spell those too, as the runtime does.
        Capabilities caps = capabilities();
        Graph lowered = Lowering.replaceUnsupported(Lowering.decompose(graph, c -> options.fusion() && caps.isNative(c)), caps::supports, name());
        if (options.fusion()) lowered = fuse(lowered, options);
        List<Kernel> kernels = new ArrayList<>();
        try {
            for (Node n : lowered.nodes()) {
                Kernel k = kernel(n, options);
                if (k == null) {
                    throw new UnsupportedOperationException(name() + " has no kernel for " + n.op().opName() + " in node " + n);
                }
                kernels.add(k);
            }
            return new SequentialExecutable(lowered, kernels, scope);
        } catch (RuntimeException e) {
            kernels.forEach(Kernel::close);
            throw e;
        }
    }
}
