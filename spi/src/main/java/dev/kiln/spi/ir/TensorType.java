package dev.kiln.spi.ir;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;

/** The static type of a value: element type and shape. */
public record TensorType(DType dtype, Shape shape) {
    public static TensorType of(DType dtype, int... dims) { return new TensorType(dtype, Shape.of(dims)); }

    public long byteSize() { return shape.size() * dtype.byteSize(); }

    public TensorType withDType(DType d) { return new TensorType(d, shape); }

    public TensorType withShape(Shape s) { return new TensorType(dtype, s); }

    @Override public String toString() { return dtype.label() + shape; }
}
