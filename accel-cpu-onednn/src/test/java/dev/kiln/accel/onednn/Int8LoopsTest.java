package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Vector API's and the scalar quantization loops give the definition's bits, over whole vectors and tails. */
class Int8LoopsTest {
    @ParameterizedTest @ValueSource(ints = {1, 15, 16, 17, 1000, 4099})
    void vectorAndScalarLoopsAgreeWithTheDefinition(int count) {
        assertTrue(Int8Loops.chosen() instanceof VectorInt8, "surefire runs with the Vector API");
        Random r = new Random(count);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(4L * count);
            float[] xs = new float[count];
            for (int i = 0; i < count; i++) {
                xs[i] = (float) (r.nextGaussian() * 3);
                if (i % 7 == 3) xs[i] = -0f;
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, xs[i]);
            }
            float amax = 0;
            boolean negative = false;
            for (float v : xs) {
                amax = Math.max(amax, Math.abs(v));
                negative |= v < 0;
            }
            float want = negative ? -amax : amax;
            assertEquals(want, VectorInt8.LOOPS.signedAbsMax(x, count));
            assertEquals(want, ScalarInt8.LOOPS.signedAbsMax(x, count));
            x.setAtIndex(ValueLayout.JAVA_FLOAT, count - 1, Math.abs(xs[count - 1]));
            float scale = Math.max(amax, Float.MIN_NORMAL) / 127;
            byte[] definition = new byte[count];
            for (int i = 0; i < count; i++) {
                float v = x.getAtIndex(ValueLayout.JAVA_FLOAT, i) / scale;
                definition[i] = (byte) (int) (v + (v < 0 ? -0.5f : 0.5f));
            }
            MemorySegment qv = arena.allocate(count), qs = arena.allocate(count);
            VectorInt8.LOOPS.quantize(x, count, scale, qv);
            ScalarInt8.LOOPS.quantize(x, count, scale, qs);
            assertArrayEquals(definition, qv.toArray(ValueLayout.JAVA_BYTE), "vector");
            assertArrayEquals(definition, qs.toArray(ValueLayout.JAVA_BYTE), "scalar");
        }
    }

    @ParameterizedTest @ValueSource(ints = {1, 33})
    void aBatchWithoutNegativesReportsAPositiveMaximumAndNaNWins(int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(4L * count);
            for (int i = 0; i < count; i++) x.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f);
            for (Int8Loops l : new Int8Loops[] {VectorInt8.LOOPS, ScalarInt8.LOOPS}) assertEquals((count - 1) * 0.5f, l.signedAbsMax(x, count), l.toString());
            x.setAtIndex(ValueLayout.JAVA_FLOAT, count / 2, Float.NaN);
            for (Int8Loops l : new Int8Loops[] {VectorInt8.LOOPS, ScalarInt8.LOOPS}) assertTrue(Float.isNaN(l.signedAbsMax(x, count)), l.toString());
        }
    }
}
