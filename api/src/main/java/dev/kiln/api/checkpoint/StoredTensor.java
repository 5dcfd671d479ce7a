package dev.kiln.api.checkpoint;

import dev.kiln.core.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a safetensors file as raw little-endian bytes with its element type and shape,
 * plus conversions to Java arrays. Kept as bytes so a file round-trips exactly, whatever its
 * dtype; a single tensor is limited to 2 GiB (one Java array).
 */
public final class StoredTensor {
    /** The safetensors element types Kiln reads, by their names in the header. */
    public enum Type {
        F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

        private final int bytes;

        Type(int bytes) { this.bytes = bytes; }

        public int byteSize() { return bytes; }

        public boolean isFloating() { return this == F64 || this == F32 || this == F16 || this == BF16; }

        /** The type named {@code name} in a header, or null if Kiln does not know it. */
        static Type forName(String name) {
            for (Type t : values()) if (t.name().equals(name)) return t;
            return null;
        }
    }

    private final Type dtype;
    private final long[] shape;
    private final byte[] data;

    private StoredTensor(Type dtype, long[] shape, byte[] data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /** A tensor from raw little-endian bytes; their count must match the shape. */
    public static StoredTensor of(Type dtype, long[] shape, byte[] littleEndian) {
        long n = count(shape);
        if (n * dtype.byteSize() != littleEndian.length) {
            throw new IllegalArgumentException(dtype + Arrays.toString(shape) + " needs " + n * dtype.byteSize() + " bytes, got " + littleEndian.length);
        }
        return new StoredTensor(dtype, shape.clone(), littleEndian);
    }

    public static StoredTensor ofFloats(float[] values, Shape shape) {
        check(values.length, shape);
        ByteBuffer b = le(values.length * 4L);
        b.asFloatBuffer().put(values);
        return new StoredTensor(Type.F32, longs(shape), b.array());
    }

    public static StoredTensor ofDoubles(double[] values, Shape shape) {
        check(values.length, shape);
        ByteBuffer b = le(values.length * 8L);
        b.asDoubleBuffer().put(values);
        return new StoredTensor(Type.F64, longs(shape), b.array());
    }

    public Type dtype() { return dtype; }

    public long[] shape() { return shape.clone(); }

    /** The shape as Kiln's {@link Shape}; fails if a dimension exceeds an int. */
    public Shape kilnShape() {
        int[] d = new int[shape.length];
        for (int i = 0; i < d.length; i++) d[i] = Math.toIntExact(shape[i]);
        return Shape.of(d);
    }

    public long elementCount() { return count(shape); }

    /** A copy of the raw little-endian bytes. */
    public byte[] bytes() { return data.clone(); }

    int byteLength() { return data.length; }

    byte[] rawBytes() { return data; }

    /** The values as floats, converted from any numeric type (f64 rounds, bf16/f16 widen exactly). */
    public float[] toFloats() {
        int n = Math.toIntExact(elementCount());
        float[] out = new float[n];
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            default -> { for (int i = 0; i < n; i++) out[i] = (float) element(b, i); }
        }
        return out;
    }

    /** The values as doubles, converted from any numeric type. */
    public double[] toDoubles() {
        int n = Math.toIntExact(elementCount());
        double[] out = new double[n];
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) out[i] = element(b, i);
        return out;
    }

    private double element(ByteBuffer b, int i) {
        return switch (dtype) {
            case F64 -> b.getDouble(i * 8);
            case F32 -> b.getFloat(i * 4);
            case F16 -> Float.float16ToFloat(b.getShort(i * 2));
            case BF16 -> Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
            case I64 -> b.getLong(i * 8);
            case I32 -> b.getInt(i * 4);
            case I16 -> b.getShort(i * 2);
            case I8 -> b.get(i);
            case U8, BOOL -> b.get(i) & 0xff;
        };
    }

    @Override public String toString() { return dtype + Arrays.toString(shape); }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static void check(int length, Shape shape) {
        if (length != shape.size()) throw new IllegalArgumentException(length + " values do not fill shape " + shape);
    }

    private static long[] longs(Shape s) {
        long[] l = new long[s.rank()];
        for (int i = 0; i < l.length; i++) l[i] = s.dim(i);
        return l;
    }

    private static ByteBuffer le(long bytes) { return ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN); }
}
