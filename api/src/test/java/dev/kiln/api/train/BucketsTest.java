package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

class BucketsTest {
    private static final TensorType W1 = TensorType.of(DType.F32, 1024, 784), B1 = TensorType.of(DType.F32, 1024),
            W2 = TensorType.of(DType.F32, 1024, 1024), B2 = TensorType.of(DType.F32, 1024),
            W3 = TensorType.of(DType.F32, 10, 1024), B3 = TensorType.of(DType.F32, 10);

    /** The wide MLP: the last layer and the next bias fit the 1 MiB first bucket; the rest one 25 MiB bucket. */
    @Test void reverseOrderWithASmallFirstBucket() {
        Buckets b = Buckets.plan(List.of(W1, B1, W2, B2, W3, B3), List.of(0, 1, 2, 3, 4, 5), Buckets.DEFAULT_FIRST_BYTES, Buckets.DEFAULT_BYTES);
        assertEquals(2, b.size());
        assertEquals(List.of(5, 4, 3), b.list().get(0).members());
        assertEquals(List.of(0, 10, 10 + 10240), b.list().get(0).offsets());
        assertEquals(10 + 10240 + 1024, b.list().get(0).elements());
        assertEquals(List.of(2, 1, 0), b.list().get(1).members());
        assertEquals(1024 * 1024 + 1024 + 1024 * 784, b.list().get(1).elements());
    }

    /** The order follows the model's parameter indices, not the order gradients were listed in. */
    @Test void orderComesFromTheParameterIndices() {
        Buckets b = Buckets.plan(List.of(B3, W1), List.of(5, 0), 1 << 30, 1 << 30);
        assertEquals(List.of(0, 1), b.list().getFirst().members());
    }

    @Test void aTensorLargerThanTheCapGetsABucketOfItsOwn() {
        Buckets b = Buckets.plan(List.of(W1, W2, B2), List.of(0, 1, 2), 1024, 1024);
        assertEquals(3, b.size());
        assertEquals(List.of(2), b.list().get(0).members());
        assertEquals(List.of(1), b.list().get(1).members());
        assertEquals(List.of(0), b.list().get(2).members());
    }

    @Test void dtypesAreNotMixed() {
        TensorType half = TensorType.of(DType.BF16, 16);
        Buckets b = Buckets.plan(List.of(B3, half, B3), List.of(0, 1, 2), 1 << 30, 1 << 30);
        assertEquals(3, b.size());
        assertEquals(DType.BF16, b.list().get(1).dtype());
    }

    @Test void aBucketBeyondOneBufferIsRefused() {
        TensorType huge = TensorType.of(DType.BF16, 65536, 32769);
        assertThrows(IllegalArgumentException.class, () -> Buckets.plan(List.of(huge), List.of(0), 1, 1));
    }
}
