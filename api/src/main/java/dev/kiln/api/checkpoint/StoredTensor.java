package dev.kiln.api.checkpoint;

import dev.kiln.core.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a safetensors file as raw little-endian bytes with its element type and shape,
 * plus conversions to Java arrays. Kept as bytes so a file round-trips exactly, whatever its
 * dtype. The bytes live in a {@link MemorySegment}, so a tensor may exceed 2 GiB: up to that it is
 * an ordinary heap array, beyond it the file's pages mapped read-only (when read) or memory the
 * garbage collector frees (when made from floats). Conversions to arrays are limited to what one
 * Java array holds.
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

    /** The longest array every JVM allocates; larger tensors are not heap arrays. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Type dtype;
    private final long[] shape;
    private final MemorySegment data;

    private StoredTensor(Type dtype, long[] shape, MemorySegment data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /** A tensor from raw little-endian bytes; their count must match the shape. */
    public static StoredTensor of(Type dtype, long[] shape, byte[] littleEndian) {
        return of(dtype, shape, MemorySegment.ofArray(littleEndian));
    }

    /** As {@link #of(Type, long[], byte[])} for bytes of any length, such as a mapped file region. */
    static StoredTensor of(Type dtype, long[] shape, MemorySegment littleEndian) {
        long bytes = byteCount(dtype, shape);
        if (bytes != littleEndian.byteSize()) {
            throw new IllegalArgumentException(dtype + Arrays.toString(shape) + " needs " + bytes + " bytes, got " + littleEndian.byteSize());
        }
        return new StoredTensor(dtype, shape.clone(), littleEndian);
    }

    public static StoredTensor ofFloats(float[] values, Shape shape) {
        check(values.length, shape);
        MemorySegment s = allocate(values.length * 4L);
        MemorySegment.copy(values, 0, s, F32_LE, 0, values.length);
        return new StoredTensor(Type.F32, longs(shape), s);
    }

    public static StoredTensor ofDoubles(double[] values, Shape shape) {
        check(values.length, shape);
        MemorySegment s = allocate(values.length * 8L);
        MemorySegment.copy(values, 0, s, F64_LE, 0, values.length);
        return new StoredTensor(Type.F64, longs(shape), s);
    }

    public static StoredTensor ofLongs(long[] values, Shape shape) {
        check(values.length, shape);
        MemorySegment s = allocate(values.length * 8L);
        MemorySegment.copy(values, 0, s, I64_LE, 0, values.length);
        return new StoredTensor(Type.I64, longs(shape), s);
    }

    /**
     * The bytes of {@code shape} elements of {@code dtype}.
     *
     * @throws IllegalArgumentException for a negative dimension or more bytes than a long counts
     */
    static long byteCount(Type dtype, long[] shape) {
        long n = dtype.byteSize();
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            empty |= d == 0;
        }
        if (empty) return 0; // however large the other dimensions
        try {
            for (long d : shape) n = Math.multiplyExact(n, d);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(dtype + Arrays.toString(shape) + " has more bytes than a long can count");
        }
        return n;
    }

    public Type dtype() { return dtype; }

    public long[] shape() { return shape.clone(); }

    /** The shape as Kiln's {@link Shape}; fails if a dimension exceeds an int. */
    public Shape kilnShape() {
        int[] d = new int[shape.length];
        for (int i = 0; i < d.length; i++) {
            if (shape[i] > Integer.MAX_VALUE) throw new IllegalArgumentException(this + ": dimension " + i + " is larger than a Kiln shape holds (2^31-1)");
            d[i] = (int) shape[i];
        }
        return Shape.of(d);
    }

    /** True when the dimensions are exactly {@code s}'s. */
    public boolean hasShape(Shape s) {
        if (shape.length != s.rank()) return false;
        for (int i = 0; i < shape.length; i++) if (shape[i] != s.dim(i)) return false;
        return true;
    }

    public long elementCount() { return byteLength() / dtype.byteSize(); }

    /** A copy of the raw little-endian bytes; fails for a tensor larger than one Java array. */
    public byte[] bytes() {
        if (byteLength() > MAX_ARRAY) throw new IllegalStateException(this + " is " + byteLength() + " bytes, more than one Java array holds");
        return data.toArray(ValueLayout.JAVA_BYTE);
    }

    long byteLength() { return data.byteSize(); }

    /** The bytes themselves, not a copy: for writing. */
    MemorySegment segment() { return data; }

    /** The values as floats, converted from any numeric type (f64 rounds, bf16/f16 widen exactly). */
    public float[] toFloats() {
        float[] out = new float[arrayLength()];
        if (dtype == Type.F32) {
            MemorySegment.copy(data, F32_LE, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = (float) element(i);
        }
        return out;
    }

    /** The values as doubles, converted from any numeric type. */
    public double[] toDoubles() {
        double[] out = new double[arrayLength()];
        for (int i = 0; i < out.length; i++) out[i] = element(i);
        return out;
    }

    /** The values as longs, exactly; only for the integer types and bool (a float has no exact long). */
    public long[] toLongs() {
        long[] out = new long[arrayLength()];
        for (int i = 0; i < out.length; i++) out[i] = integer(i);
        return out;
    }

    /** The values as ints, exactly; an i64 value outside int's range fails, naming it. */
    public int[] toInts() {
        int[] out = new int[arrayLength()];
        for (int i = 0; i < out.length; i++) {
            long v = integer(i);
            if (v != (int) v) throw new ArithmeticException(this + ": element " + i + " is " + v + ", outside int's range; use toLongs()");
            out[i] = (int) v;
        }
        return out;
    }

    /**
     * A new tensor on {@code kiln} with these values and shape, in the nearest Kiln dtype: floats
     * keep theirs, i64 stays i64, i8 and bool keep theirs, and i16 and u8 (which Kiln lacks) widen
     * exactly to i32.
     */
    public dev.kiln.api.Tensor toTensor(dev.kiln.api.Kiln kiln) {
        int[] dims = kilnShape().dims();
        return switch (dtype) {
            case F64 -> kiln.tensor(toDoubles(), dims);
            case F32 -> kiln.tensor(toFloats(), dims);
            case F16 -> kiln.tensor(toFloats(), dims).cast(dev.kiln.core.DType.F16);
            case BF16 -> kiln.tensor(toFloats(), dims).cast(dev.kiln.core.DType.BF16);
            case I64 -> kiln.tensor(toLongs(), dims);
            case I32, I16, U8 -> kiln.tensor(toInts(), dims);
            case I8 -> kiln.tensor(toInts(), dims).cast(dev.kiln.core.DType.I8);
            case BOOL -> kiln.tensor(toInts(), dims).cast(dev.kiln.core.DType.BOOL);
        };
    }

    private long integer(long i) {
        return switch (dtype) {
            case I64 -> data.get(I64_LE, i * 8);
            case I32 -> data.get(I32_LE, i * 4);
            case I16 -> data.get(I16_LE, i * 2);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            case F64, F32, F16, BF16 -> throw new IllegalStateException(this + " holds floating values; use toFloats() or toDoubles()");
        };
    }

    private int arrayLength() {
        long n = elementCount();
        if (n > MAX_ARRAY) throw new IllegalStateException(this + " has " + n + " elements, more than one Java array holds");
        return (int) n;
    }

    private double element(long i) {
        return switch (dtype) {
            case F64 -> data.get(F64_LE, i * 8);
            case F32 -> data.get(F32_LE, i * 4);
            case F16 -> Float.float16ToFloat(data.get(I16_LE, i * 2));
            case BF16 -> Float.intBitsToFloat((data.get(I16_LE, i * 2) & 0xffff) << 16);
            case I64 -> data.get(I64_LE, i * 8);
            case I32 -> data.get(I32_LE, i * 4);
            case I16 -> data.get(I16_LE, i * 2);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
        };
    }

    @Override public String toString() { return dtype + Arrays.toString(shape); }

    /** A heap array where one can hold the bytes, else memory the garbage collector frees. */
    static MemorySegment allocate(long bytes) {
        return bytes <= MAX_ARRAY ? MemorySegment.ofArray(new byte[(int) bytes]) : Arena.ofAuto().allocate(bytes, 8);
    }

    private static void check(int length, Shape shape) {
        if (length != shape.size()) throw new IllegalArgumentException(length + " values do not fill shape " + shape);
    }

    private static long[] longs(Shape s) {
        long[] l = new long[s.rank()];
        for (int i = 0; i < l.length; i++) l[i] = s.dim(i);
        return l;
    }
}
