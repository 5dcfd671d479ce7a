package dev.kiln.accel.xla.hlo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.core.DType;
import dev.kiln.tck.internal.Numerics;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Literals must carry the reference's rounding: the decimal written is the exact double of the
 * value rounded as {@code Fill} rounds, so MLIR's parse (to double, then to the element type)
 * lands on the same bits.
 */
class StableHloLiteralsTest {
    @Test
    void roundingAgreesWithTheReference() {
        Random r = new Random(1);
        for (int i = 0; i < 100_000; i++) {
            double v = switch (i % 3) {
                case 0 -> r.nextGaussian() * 1e3;
                case 1 -> Double.longBitsToDouble(r.nextLong());
                default -> Float.intBitsToFloat(r.nextInt());
            };
            for (DType d : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64}) {
                double want = Numerics.convert(v, DType.F64, d);
                double got = HloLiterals.roundTo(v, HloElement.of(d));
                assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(got), d + " of " + v);
                String text = HloLiterals.of(v, HloElement.of(d));
                if (!text.startsWith("0x")) assertEquals(want, Double.parseDouble(text), 0, "the decimal is exactly the rounded value: " + text);
            }
        }
    }

    @Test
    void specialValuesAreBitPatterns() {
        assertEquals("0xFF800000", HloLiterals.of(Double.NEGATIVE_INFINITY, HloElement.F32));
        assertEquals("0x7FF0000000000000", HloLiterals.of(Double.POSITIVE_INFINITY, HloElement.F64));
        assertEquals("0xFC00", HloLiterals.of(Double.NEGATIVE_INFINITY, HloElement.F16));
        assertEquals("0x7F80", HloLiterals.of(1e39, HloElement.BF16), "overflow rounds to infinity");
        assertEquals("0x7FC00000", HloLiterals.of(Double.NaN, HloElement.F32));
    }

    @Test
    void integersTruncateAndWrapLikeFill() {
        assertEquals("44", HloLiterals.of(300, HloElement.I8));
        assertEquals("-2", HloLiterals.of(-2.9, HloElement.I32));
        assertEquals("-1294967296", HloLiterals.of(3e9, HloElement.I32));
        assertEquals("9223372036854775807", HloLiterals.of(1e30, HloElement.I64));
        assertEquals("true", HloLiterals.of(Double.NaN, HloElement.I1));
        assertEquals("18446744073709551615", HloLiterals.integer(-1, HloElement.UI64));
    }
}
