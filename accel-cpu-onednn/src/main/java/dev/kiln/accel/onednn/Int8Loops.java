package dev.kiln.accel.onednn;

import java.lang.foreign.MemorySegment;

/**
 * The two passes over f32 activations that {@link dev.kiln.spi.ir.Composite.QuantizedLinear}
 * quantizes per call, read and written in place in the kernel's segments (no copies): the scan
 * for the scale and the rounding to int8. Two implementations compute the same bits:
 * {@link VectorInt8} with the Vector API, and {@link ScalarInt8}; which one runs is decided with
 * the optimizer loops ({@link OptimLoops}), by the same availability of the Vector API.
 */
interface Int8Loops {
    /**
     * The largest {@code |x|} of the first {@code count} floats, negated when some element is
     * below zero (so the caller learns both in one pass); NaN when one is NaN.
     */
    float signedAbsMax(MemorySegment x, long count);

    /**
     * {@code q[i] = round(x[i] / scale)}, ties away from zero, for the first {@code count} floats:
     * the f32 division, then {@code +-0.5} and truncation, as the composite's definition. The
     * result must fit a byte, as it does for {@code scale >= max|x| / 127}.
     */
    void quantize(MemorySegment x, long count, float scale, MemorySegment q);

    /** The loops this JVM runs: the Vector API's where the optimizer loops use it. */
    static Int8Loops chosen() { return OptimLoops.vector() ? VectorInt8.LOOPS : ScalarInt8.LOOPS; }
}
