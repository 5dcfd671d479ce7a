package dev.kiln.tck;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.tck.internal.Numerics;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Tensors in host memory as the SPI lays them out (row-major, native byte order) converted to
 * and from the reference's {@code double[]}. Writing rounds floats to nearest even and truncates
 * integers toward zero, so {@code read(write(x))} is {@code x} as the device will see it.
 */
public final class HostData {
    private HostData() {}

    /** The elements of {@code segment}, which holds a tensor of {@code type}. */
    public static double[] read(MemorySegment segment, TensorType type) {
        int n = size(type);
        if (segment.byteSize() < type.byteSize()) {
            throw new IllegalArgumentException(type + " needs " + type.byteSize() + " bytes, segment has " + segment.byteSize());
        }
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (type.dtype()) {
                case F64 -> segment.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
                case F32 -> segment.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                case BF16 -> Numerics.bf16ToFloat(segment.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                case F16 -> Float.float16ToFloat(segment.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                case I64 -> segment.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                case I32 -> segment.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                case I8 -> segment.get(ValueLayout.JAVA_BYTE, i);
                case BOOL -> segment.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
            };
        }
        return x;
    }

    /** Writes {@code data} as a tensor of {@code type} into the first {@code type.byteSize()} bytes of {@code dst}. */
    public static void write(double[] data, TensorType type, MemorySegment dst) {
        int n = size(type);
        if (data.length != n) throw new IllegalArgumentException(type + " has " + n + " elements, got " + data.length + " values");
        for (int i = 0; i < n; i++) {
            double v = data[i];
            switch (type.dtype()) {
                case F64 -> dst.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i, v);
                case F32 -> dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) v);
                case BF16 -> dst.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Numerics.floatToBf16((float) v));
                case F16 -> dst.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16((float) v));
                case I64 -> dst.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, (long) v);
                case I32 -> dst.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, (int) (long) v);
                case I8 -> dst.set(ValueLayout.JAVA_BYTE, i, (byte) (long) v);
                case BOOL -> dst.set(ValueLayout.JAVA_BYTE, i, (byte) (v != 0 ? 1 : 0));
            }
        }
    }

    /** {@code data} as a fresh off-heap segment (native plugins may need an address), freed by the GC. */
    public static MemorySegment write(double[] data, TensorType type) {
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, type.byteSize()), 64);
        write(data, type, seg);
        return seg;
    }

    /** {@code data} exactly as a tensor of {@code type} holds it: rounded, truncated, wrapped. */
    public static double[] roundTrip(double[] data, TensorType type) { return read(write(data, type), type); }

    /** Uploads {@code data} as a new buffer of {@code type}; the caller closes it. */
    public static Buffer upload(Accelerator accelerator, TensorType type, double[] data) {
        return accelerator.upload(type, write(data, type));
    }

    /** Downloads {@code buffer} into doubles. */
    public static double[] download(Accelerator accelerator, Buffer buffer) {
        TensorType t = buffer.type();
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, t.byteSize()), 64);
        accelerator.download(buffer, seg);
        return read(seg, t);
    }

    private static int size(TensorType type) { return Math.toIntExact(type.shape().size()); }
}
