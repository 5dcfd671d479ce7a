package dev.kiln.spi.ir;

/** An SSA value of a graph: defined once, by a graph input or by one node. */
public record Value(int id, TensorType type) {
    @Override public String toString() { return "%" + id + ":" + type; }
}
