package dev.kiln.tck.internal;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Op;
import dev.kiln.spi.ir.TensorType;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One conformance case: {@code op} applied to inputs of {@code inputs}' types drawn by
 * {@code samplers}. {@code wrt} lists the inputs to differentiate (empty: not differentiable);
 * {@code accumulation} is how many terms each result sums, which scales the absolute tolerance.
 */
public record OpCase(String group, String name, Op op, List<TensorType> inputs, List<Sampler> samplers,
                     List<Integer> wrt, int accumulation) {
    public OpCase {
        inputs = List.copyOf(inputs);
        samplers = List.copyOf(samplers);
        wrt = List.copyOf(wrt);
        if (samplers.size() != inputs.size()) throw new IllegalArgumentException(name + ": one sampler per input");
    }

    public List<TensorType> outputs() { return op.infer(inputs); }

    /** Every dtype the case touches; a plugin lacking one skips the case. */
    public Set<DType> dtypes() {
        Set<DType> d = new LinkedHashSet<>();
        for (TensorType t : inputs) d.add(t.dtype());
        for (TensorType t : outputs()) d.add(t.dtype());
        return d;
    }

    /** A seed fixed by the name, so each case draws the same data however the suite is filtered or ordered. */
    public long seed() { return 0x5EED_0000_0000L ^ name.hashCode(); }

    @Override public String toString() { return name; }
}
