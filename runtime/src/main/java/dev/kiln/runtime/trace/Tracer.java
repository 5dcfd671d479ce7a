package dev.kiln.runtime.trace;

import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Value;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records a function as a graph: symbolic inputs are declared up front, and concrete tensors the
 * function touches (parameters, constants) are captured as further graph inputs on first use.
 */
public final class Tracer {
    private final Graph.Builder builder;
    private final Map<Object, Value> captured = new IdentityHashMap<>();
    private final List<Object> capturedOwners = new ArrayList<>();

    public Tracer() { this(Graph.builder()); }

    /** Continues tracing into an existing builder, e.g. to append optimizer updates to a gradient graph. */
    public Tracer(Graph.Builder builder) { this.builder = builder; }

    public Graph.Builder builder() { return builder; }

    /** The graph input standing for the concrete tensor {@code owner}, created on first use. */
    public Value capture(Object owner, Buffer buffer) {
        return captured.computeIfAbsent(owner, o -> {
            capturedOwners.add(o);
            return builder.input(buffer.type());
        });
    }

    /** Captured tensors, in order of first use. */
    public List<Object> capturedOwners() { return List.copyOf(capturedOwners); }

    public Value capturedValue(Object owner) { return captured.get(owner); }
}
