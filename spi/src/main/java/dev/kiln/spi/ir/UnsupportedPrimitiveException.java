package dev.kiln.spi.ir;

/**
 * A graph uses a primitive the plugin declared unsupported and the IR has no fallback for: the
 * graph cannot run on that plugin. Thrown before the plugin's {@code compile} sees the graph.
 */
public final class UnsupportedPrimitiveException extends UnsupportedOperationException {
    private final transient Node node;

    public UnsupportedPrimitiveException(String plugin, Node node) {
        super(plugin + " declares " + node.op().opName() + " unsupported (Capabilities.unsupported) and the IR has no fallback for it,"
                + " so this graph cannot run on " + plugin + ": " + node.describe() + "; choose another backend (KilnConfig.backend, -Dkiln.backend)");
        this.node = node;
    }

    /** The node that cannot run. */
    public Node node() { return node; }
}
