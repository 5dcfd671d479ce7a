package dev.kiln.tck.internal;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.TensorType;
import java.util.StringJoiner;

/** Compact spellings for case names: {@code [7,13]}, {@code []}. */
public final class Names {
    private Names() {}

    public static String shape(Shape s) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        for (int d : s.dims()) j.add(Integer.toString(d));
        return j.toString();
    }

    public static String shape(TensorType t) { return shape(t.shape()); }

    /** A flat row-major index as coordinates, for failure messages. */
    public static String coordinates(Shape s, long flat) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        long[] strides = s.strides();
        for (int i = 0; i < s.rank(); i++) j.add(Long.toString((flat / strides[i]) % s.dim(i)));
        return j.toString();
    }
}
