package dev.kiln.accel.xla.hlo;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.TensorType;

/** One SSA value of the emitted function: its {@code %name} and its static tensor type. */
record Ssa(String name, HloElement element, Shape shape) {

    /** {@code tensor<2x3xf32>}; a scalar is {@code tensor<f32>}. */
    String type() { return tensorType(element, shape); }

    int rank() { return shape.rank(); }

    static String tensorType(HloElement element, Shape shape) {
        StringBuilder sb = new StringBuilder("tensor<");
        for (int d : shape.dims()) sb.append(d).append('x');
        return sb.append(element.mlir()).append('>').toString();
    }

    static String tensorType(TensorType t) { return tensorType(HloElement.of(t.dtype()), t.shape()); }

    @Override public String toString() { return name + ": " + type(); }
}
