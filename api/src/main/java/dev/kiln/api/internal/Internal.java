package dev.kiln.api.internal;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.dist.ProcessGroup;
import dev.kiln.runtime.dist.GuardedCollectives;
import dev.kiln.runtime.exec.GraphCompiler;
import dev.kiln.spi.Accelerator;
import dev.kiln.runtime.trace.Tracer;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;

/**
 * What the API's own packages (nn, optim, train) need of tensors and Kiln instances but users must
 * not see. This package is not exported; {@link Tensor} installs the implementation when loaded.
 */
public final class Internal {
    /** Access to the package-private parts of {@code dev.kiln.api}. */
    public interface Access {
        /** Pins {@code t}'s buffer until the lease closes (see {@link Tensor#close()}). */
        Lease lease(Tensor t);

        /** Marks the start of work on {@code k}'s accelerator; {@link Kiln#close()} waits for its {@link #exit}. */
        void enter(Kiln k);

        void exit(Kiln k);

        Tensor wrap(Kiln k, Buffer b);

        Tensor symbolic(Kiln k, Tracer tracer, Value v);

        Value value(Tensor t);

        Tracer tracer(Tensor t);

        /**
         * {@code t} read inside {@code into}'s trace: a concrete tensor becomes a captured input of
         * that trace, so ops on it are traced too (a parameter reshaped there still gets its
         * gradient); {@code t} itself outside a trace.
         */
        Tensor capture(Tensor t, Tensor into);

        GraphCompiler compiler(Kiln k);

        long nextSeed(Kiln k);

        Buffer upload(Kiln k, TensorType type, MemorySegment host);

        /** A tensor on {@code k} holding a copy of {@code host} that nothing ever writes (see {@link Accelerator#uploadConstant}). */
        Tensor constant(Kiln k, TensorType type, MemorySegment host);

        void download(Kiln k, Buffer b, MemorySegment host);

        /** The collectives of the process group {@code k} was opened with, or null for a single process. */
        GuardedCollectives collectives(Kiln k);
    }

    private static volatile Access access;
    private static volatile Groups groups;

    /** What {@link dev.kiln.api.dist.ProcessGroup} offers a Kiln opened with it. */
    public interface Groups {
        GuardedCollectives join(ProcessGroup group, Accelerator accelerator);
    }

    public static void installGroups(Groups g) { groups = g; }

    /** Set by ProcessGroup's class initialiser, which has run once a group exists. */
    public static Groups groups() { return groups; }

    private Internal() {}

    public static void install(Access a) { access = a; }

    public static Access access() {
        if (access == null) {
            try {
                Class.forName(Tensor.class.getName(), true, Tensor.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        return access;
    }
}
