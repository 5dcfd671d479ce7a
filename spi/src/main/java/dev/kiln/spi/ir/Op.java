package dev.kiln.spi.ir;

import java.util.List;
import java.util.Locale;

/**
 * What a node computes. A small set of {@link Primitive}s every plugin implements, and
 * {@link Composite}s a plugin may implement natively and that otherwise decompose into
 * primitives. A plugin's own fusion passes may also produce {@link Fused} ops, which live only
 * inside that plugin's compile. Each op infers its output types next to its definition, so shape
 * errors are raised where the op is named.
 */
public sealed interface Op permits Primitive, Composite, Fused {

    /** Output types for the given input types; throws {@link IllegalArgumentException} naming the op and shapes. */
    List<TensorType> infer(List<TensorType> inputs);

    /** Short lower-case name used in messages and graph dumps. */
    default String opName() { return getClass().getSimpleName().toLowerCase(Locale.ROOT); }

    /** An error that names this op and the input types it was given. */
    default IllegalArgumentException error(String message, List<TensorType> inputs) {
        return new IllegalArgumentException(opName() + ": " + message + " (inputs " + inputs + ")");
    }

    /** Checks the number of inputs. */
    default void arity(List<TensorType> inputs, int n) {
        if (inputs.size() != n) throw error("expects " + n + " inputs, got " + inputs.size(), inputs);
    }
}
