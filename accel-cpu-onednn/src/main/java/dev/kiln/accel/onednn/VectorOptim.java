package dev.kiln.accel.onednn;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The optimizer loops in the Vector API, because the JIT does not vectorise Adam's
 * divide-and-square-root loop on its own (~3 ns per element scalar, most of a seed-MLP step).
 * The only class of the plugin that names {@code jdk.incubator.vector}: {@link OptimLoops}
 * loads it only when that module is readable. Each lane does {@link ScalarOptim}'s operations
 * in its order, and the partial vector at the end of a range runs there.
 */
final class VectorOptim implements OptimLoops {
    static final OptimLoops LOOPS = new VectorOptim();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final float TINY = ScalarOptim.TINY;

    private VectorOptim() {}

    static String describeSpecies() { return F.length() + " float lanes"; }

    @Override public void adam(MemorySegment[] in, MemorySegment[] out, long from, long to,
                               float shrink, float l2, float b1, float nb1, float b2, float nb2, float a, float c2, float eps) {
        long whole = to - (to - from) % F.length();
        MemorySegment p0 = in[0], g0 = in[1], m0 = in[2], v0 = in[3], p1 = out[0], m1 = out[1], v1 = out[2];
        for (long at = from * 4, end = whole * 4; at < end; at += F.length() * 4L) {
            FloatVector p = FloatVector.fromMemorySegment(F, p0, at, ORDER).mul(shrink);
            FloatVector g = FloatVector.fromMemorySegment(F, g0, at, ORDER);
            if (l2 != 0) g = p.mul(l2).add(g);
            FloatVector m = FloatVector.fromMemorySegment(F, m0, at, ORDER).mul(b1).add(g.mul(nb1));
            FloatVector v = FloatVector.fromMemorySegment(F, v0, at, ORDER).mul(b2).add(g.mul(nb2).mul(g));
            m = m.blend(0f, m.abs().lt(TINY));
            v = v.blend(0f, v.lt(TINY));
            FloatVector step = m.mul(a).div(v.sqrt().div(c2).add(eps));
            p.sub(step).intoMemorySegment(p1, at, ORDER);
            m.intoMemorySegment(m1, at, ORDER);
            v.intoMemorySegment(v1, at, ORDER);
        }
        if (whole < to) ScalarOptim.adamScalar(in, out, whole, to, shrink, l2, b1, nb1, b2, nb2, a, c2, eps);
    }

    @Override public void sgd(MemorySegment[] in, MemorySegment[] out, long from, long to, float lr, float wd, float mom, boolean nesterov) {
        long whole = to - (to - from) % F.length();
        MemorySegment p0 = in[0], g0 = in[1], v0 = in[2], p1 = out[0], v1 = out[1];
        for (long at = from * 4, end = whole * 4; at < end; at += F.length() * 4L) {
            FloatVector p = FloatVector.fromMemorySegment(F, p0, at, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(F, g0, at, ORDER);
            if (wd != 0) g = p.mul(wd).add(g);
            FloatVector v = mom == 0 ? g : FloatVector.fromMemorySegment(F, v0, at, ORDER).mul(mom).add(g);
            v = v.blend(0f, v.abs().lt(TINY));
            FloatVector step = nesterov ? v.mul(mom).add(g) : v;
            p.sub(step.mul(lr)).intoMemorySegment(p1, at, ORDER);
            v.intoMemorySegment(v1, at, ORDER);
        }
        if (whole < to) ScalarOptim.sgdScalar(in, out, whole, to, lr, wd, mom, nesterov);
    }
}
