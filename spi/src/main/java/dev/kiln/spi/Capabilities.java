package dev.kiln.spi;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.ir.Composite;
import java.util.Set;

/**
 * What an accelerator does natively: element types, composite ops it fuses itself (the runtime
 * decomposes the others before {@code compile}), precision policies, and collectives.
 */
public record Capabilities(Set<DType> dtypes, Set<Class<? extends Composite>> nativeComposites,
                           Set<PrecisionPolicy> precisions, boolean collectives) {
    public Capabilities {
        dtypes = Set.copyOf(dtypes);
        nativeComposites = Set.copyOf(nativeComposites);
        precisions = Set.copyOf(precisions);
    }

    public boolean isNative(Composite op) { return nativeComposites.contains(op.getClass()); }
}
