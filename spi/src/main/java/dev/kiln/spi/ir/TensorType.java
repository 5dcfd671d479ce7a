package dev.kiln.spi.ir;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;

/**
 * The static type of a value: element type and shape. Its {@link #byteSize()} always fits a long:
 * a type whose bytes would not is refused when it is made, naming it.
 */
public record TensorType(DType dtype, Shape shape) {
    public TensorType {
        if (shape.size() > Long.MAX_VALUE / dtype.byteSize()) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s%s needs %.1e bytes, more than a tensor can hold (2^63-1)",
                    dtype.label(), shape, (double) shape.size() * dtype.byteSize()));
        }
    }

    public static TensorType of(DType dtype, int... dims) { return new TensorType(dtype, Shape.of(dims)); }

    public long byteSize() { return shape.size() * dtype.byteSize(); }

    public TensorType withDType(DType d) { return new TensorType(d, shape); }

    public TensorType withShape(Shape s) { return new TensorType(dtype, s); }

    @Override public String toString() { return dtype.label() + shape; }
}
