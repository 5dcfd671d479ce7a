package dev.kiln.spi;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Primitive;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What an accelerator does natively: element types, composite ops it fuses itself (the runtime
 * decomposes the others before {@code compile}), precision policies, collectives, and the
 * primitives it has no kernel for. The runtime rewrites an unsupported primitive into others
 * where the IR has a fallback for it ({@link dev.kiln.spi.ir.Lowering#replaceUnsupported}) and
 * otherwise refuses the graph before {@code compile}, naming the primitive, so a plugin never
 * meets a primitive it declared unsupported.
 */
public record Capabilities(Set<DType> dtypes, Set<Class<? extends Composite>> nativeComposites,
                           Set<PrecisionPolicy> precisions, boolean collectives, Set<PrimitiveKind> unsupported) {
    public Capabilities {
        dtypes = Set.copyOf(dtypes);
        nativeComposites = Set.copyOf(nativeComposites);
        precisions = Set.copyOf(precisions);
        unsupported = Set.copyOf(unsupported);
    }

    /** A plugin with a kernel for every primitive. */
    public Capabilities(Set<DType> dtypes, Set<Class<? extends Composite>> nativeComposites,
                        Set<PrecisionPolicy> precisions, boolean collectives) {
        this(dtypes, nativeComposites, precisions, collectives, Set.of());
    }

    public boolean isNative(Composite op) { return nativeComposites.contains(op.getClass()); }

    /** False when {@code op} is of a kind the plugin declared unsupported. */
    public boolean supports(Primitive op) {
        for (PrimitiveKind k : unsupported) if (k.matches(op)) return false;
        return true;
    }

    /** These capabilities with {@code kinds} added to the unsupported primitives. */
    public Capabilities withUnsupported(PrimitiveKind... kinds) {
        Set<PrimitiveKind> u = new HashSet<>(unsupported);
        u.addAll(List.of(kinds));
        return new Capabilities(dtypes, nativeComposites, precisions, collectives, u);
    }
}
