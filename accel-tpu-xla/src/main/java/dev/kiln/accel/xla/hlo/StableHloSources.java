package dev.kiln.accel.xla.hlo;

import dev.kiln.core.Shape;

/**
 * Fill, iota and random numbers.
 *
 * <p>{@code RandomUniform} promises one stream for every plugin: element {@code i} (row-major) is
 * {@link dev.kiln.spi.ir.Primitive.RandomUniform#sample}{@code (seed, i)}, a SplitMix64 finaliser of
 * {@code seed * G + (i + 1) * H}, whose top 24 bits become a float in [0, 1). XLA's
 * {@code rng_bit_generator} (Philox or ThreeFry, by backend) cannot reproduce that, so the hash is
 * written out in ui64 arithmetic: an iota counter, wrapping multiplies, xors and logical shifts.
 * The result is the reference's, bit for bit, on every backend, and a step stays reproducible from
 * its seed. The 24-bit integer converts to f32 exactly and the scale by 2^-24 is exact, so the only
 * rounding is the final cast to the requested type, which the reference does too.
 */
final class StableHloSources {
    // Named as the reference names them: the golden-ratio increment, the counter's odd multiplier and
    // the two SplitMix64 finaliser multipliers.
    private static final long SEED_MULTIPLIER = 0x9E3779B97F4A7C15L;
    private static final long COUNTER_MULTIPLIER = 0xD1B54A32D192ED03L;
    private static final long MIX1 = 0xBF58476D1CE4E5B9L;
    private static final long MIX2 = 0x94D049BB133111EBL;

    private final StableHloWriter w;
    private final StableHloElementwise elementwise;

    StableHloSources(StableHloWriter w, StableHloElementwise elementwise) {
        this.w = w;
        this.elementwise = elementwise;
    }

    Ssa fill(double value, HloElement e, Shape shape) {
        Ssa c = w.constant(value, e);
        return shape.rank() == 0 ? c : w.broadcastTo(c, shape);
    }

    /**
     * {@code stablehlo.iota} where its conversion of the index is the reference's (f32, f64, i32,
     * i64); other types count in i32 and go through {@link StableHloElementwise#cast}, so bf16
     * rounds via f32, i8 wraps and bool is {@code index != 0}, as the reference's conversion has it.
     */
    Ssa iota(int axis, HloElement e, Shape shape) {
        boolean direct = e == HloElement.F32 || e == HloElement.F64 || e == HloElement.I32 || e == HloElement.I64;
        Ssa counted = w.op("iota", direct ? e : HloElement.I32, shape, "iota_dimension = " + axis + " : i64");
        return direct ? counted : elementwise.cast(counted, e);
    }

    Ssa randomUniform(Ssa seed, HloElement e, Shape shape) {
        Shape flat = Shape.of(Math.toIntExact(shape.size()));
        Ssa s = w.op("bitcast_convert", HloElement.UI64, Shape.scalar(), "", seed);
        Ssa seedTerm = w.broadcastTo(w.map("multiply", s, w.integer(SEED_MULTIPLIER, HloElement.UI64)), flat);
        Ssa counter = w.map("add", w.op("iota", HloElement.UI64, flat, "iota_dimension = 0 : i64"), word(1, flat));
        Ssa z = w.map("add", seedTerm, w.map("multiply", counter, word(COUNTER_MULTIPLIER, flat)));
        z = w.map("multiply", xorShift(z, 30), word(MIX1, flat));
        z = w.map("multiply", xorShift(z, 27), word(MIX2, flat));
        z = xorShift(z, 31);
        Ssa top24 = w.map("shift_right_logical", z, word(40, flat));
        Ssa unit = w.map("multiply", w.convert(top24, HloElement.F32), w.splat(0x1.0p-24, HloElement.F32, flat));
        Ssa shaped = shape.rank() == 1 ? unit : w.reshape(unit, shape);
        return w.convert(shaped, e);
    }

    /** {@code z ^ (z >>> bits)}. */
    private Ssa xorShift(Ssa z, int bits) { return w.map("xor", z, w.map("shift_right_logical", z, word(bits, z.shape()))); }

    private Ssa word(long value, Shape shape) { return w.broadcastTo(w.integer(value, HloElement.UI64), shape); }
}
