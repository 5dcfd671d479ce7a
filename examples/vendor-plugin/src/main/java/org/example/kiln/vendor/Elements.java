package org.example.kiln.vendor;

import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Host memory as doubles and back. The kernels compute in float64 and round once, when they
 * store: a float to an integer type truncates toward zero and wraps, bool is 0 or 1, as the IR's
 * {@code Cast} defines it.
 */
final class Elements {
    private Elements() {}

    static double[] read(MemorySegment s, TensorType t) {
        double[] v = new double[Math.toIntExact(t.shape().size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (t.dtype()) {
                case F32 -> s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                case F64 -> s.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
                case I32 -> s.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                case I64 -> s.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                case BOOL -> s.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
                default -> throw unsupported(t);
            };
        }
        return v;
    }

    static void write(double[] v, TensorType t, MemorySegment s) {
        for (int i = 0; i < v.length; i++) {
            switch (t.dtype()) {
                case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) v[i]);
                case F64 -> s.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i, v[i]);
                case I32 -> s.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, (int) (long) v[i]);
                case I64 -> s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, (long) v[i]);
                case BOOL -> s.set(ValueLayout.JAVA_BYTE, i, (byte) (v[i] != 0 ? 1 : 0));
                default -> throw unsupported(t);
            }
        }
    }

    /** Not reached: the capabilities claim only these dtypes, and the kit skips cases needing others. */
    private static IllegalArgumentException unsupported(TensorType t) {
        return new IllegalArgumentException("vendor has no " + t.dtype().label() + " kernels: " + t);
    }
}
