package dev.kiln.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.spi.ir.TensorType;
import org.junit.jupiter.api.Test;

/** Element and byte counts never wrap around: a shape too large to count is refused, naming it. */
class ShapeTest {
    @Test void anElementCountThatOverflowsALongIsRefusedNamingTheShape() {
        // The product wraps to exactly 4 in 64 bits, so an unchecked count accepts new float[4] for it.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(2147418113, 1718039348, 5));
        assertTrue(e.getMessage().contains("[2147418113, 1718039348, 5]") && e.getMessage().contains("1.8e+19 elements"), e.getMessage());
        // Powers of two wrap to 0, which must not pass for an empty tensor.
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1 << 30, 1 << 30, 1 << 30));
    }

    @Test void largeButCountableShapesAndEmptyOnesAreFine() {
        assertEquals(Integer.MAX_VALUE * (long) Integer.MAX_VALUE, Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE).size());
        assertEquals(0, Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, 0).size(), "a zero dimension makes any product 0");
        assertEquals(1, Shape.scalar().size());
        assertEquals(6, Shape.of(2, 3).size());
    }

    @Test void negativeDimensionsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(3, -1));
        assertTrue(e.getMessage().contains("negative dimension in shape [3, -1]"), e.getMessage());
    }

    @Test void broadcastingCannotBuildAnUncountableShape() {
        Shape a = Shape.of(1 << 30, 1, 1 << 30), b = Shape.of(1, 1 << 30, 1);
        assertThrows(IllegalArgumentException.class, () -> Shape.broadcast(a, b));
        assertNull(Shape.broadcast(Shape.of(2), Shape.of(3)));
    }

    @Test void aByteSizeThatOverflowsALongIsRefusedNamingTheType() {
        Shape s = Shape.of(1 << 30, 1 << 30, 4); // 2^62 elements: countable, but not in f64 bytes
        assertEquals(1L << 62, s.size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TensorType(DType.F64, s));
        assertTrue(e.getMessage().contains("f64[1073741824, 1073741824, 4]") && e.getMessage().contains("bytes"), e.getMessage());
        assertEquals(1L << 62, new TensorType(DType.I8, s).byteSize());
    }
}
