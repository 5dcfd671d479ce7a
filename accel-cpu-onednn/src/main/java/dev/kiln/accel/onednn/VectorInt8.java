package dev.kiln.accel.onednn;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int8Loops} in the Vector API: one vector of floats per step, the int8 results narrowed
 * to a vector of as many bytes. Loaded only once the Vector API is known to be readable (see
 * {@link OptimLoops}); the tail of a range runs {@link ScalarInt8}'s loops, which compute the
 * same bits.
 */
final class VectorInt8 implements Int8Loops {
    static final Int8Loops LOOPS = new VectorInt8();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.vectorShape().withLanes(int.class);
    /** As many byte lanes as F has float lanes: the narrowed results of one float vector. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int SIGN = 0x8000_0000, HALF = Float.floatToRawIntBits(0.5f);

    private VectorInt8() {}

    @Override public float signedAbsMax(MemorySegment x, long count) {
        long whole = count - count % F.length();
        // |x| as sign-cleared bits, compared as integers: they order non-negative floats as floats
        // do, NaN above infinity (so NaN wins), and an integer max is one instruction where the
        // float max, with Java's NaN and -0 rules, is several.
        IntVector max = IntVector.zero(I);
        VectorMask<Float> negative = F.maskAll(false);
        for (long at = 0, end = whole * 4; at < end; at += F.length() * 4L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, at, ORDER);
            max = max.max(v.reinterpretAsInts().and(~SIGN));
            negative = negative.or(v.lt(0f));
        }
        float amax = Float.intBitsToFloat(max.reduceLanes(VectorOperators.MAX));
        return ScalarInt8.merge(amax, negative.anyTrue() ? -1 : 0, ScalarInt8.LOOPS.signedAbsMax(x.asSlice(whole * 4), count - whole));
    }

    @Override public void quantize(MemorySegment x, long count, float scale, MemorySegment q) {
        long whole = count - count % F.length();
        for (long i = 0; i < whole; i += F.length()) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, i * 4, ORDER).div(scale);
            // +-0.5 with v's sign, so that truncation rounds half away from zero.
            FloatVector half = v.reinterpretAsInts().and(SIGN).or(HALF).reinterpretAsFloats();
            IntVector r = (IntVector) v.add(half).convert(VectorOperators.F2I, 0);
            ((ByteVector) r.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(q, i, ORDER);
        }
        if (whole < count) ScalarInt8.LOOPS.quantize(x.asSlice(whole * 4), count - whole, scale, q.asSlice(whole));
    }
}
