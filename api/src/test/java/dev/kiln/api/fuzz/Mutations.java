package dev.kiln.api.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Byte-level mutations of a valid file: bit flips, interesting bytes, truncations, extensions,
 * deleted and repeated ranges, and 4- or 8-byte fields overwritten with the values parsers get
 * wrong (0, -1, the int and long extremes, sizes just off the truth).
 */
final class Mutations {
    static final long[] INTERESTING = {
        0, 1, 2, 7, 8, 255, 256, 65535, 65536, Integer.MAX_VALUE, Integer.MAX_VALUE - 8, Integer.MIN_VALUE, 0x80000000L, 0xffffffffL,
        1L << 32, Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, -8, 1L << 62, 100_000_000, 100_000_001,
    };

    private Mutations() {}

    /** One to three mutations of {@code valid}, chosen by {@code r}. */
    static byte[] mutate(byte[] valid, SplittableRandom r) {
        byte[] b = valid;
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) b = once(b, r);
        return b;
    }

    static byte[] once(byte[] b, SplittableRandom r) {
        return switch (r.nextInt(9)) {
            case 0 -> flipBits(b, r);
            case 1 -> setByte(b, r);
            case 2 -> truncate(b, r);
            case 3 -> extend(b, r);
            case 4 -> deleteRange(b, r);
            case 5 -> repeatRange(b, r);
            case 6 -> overwrite(b, r, 4, r.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            case 7 -> overwrite(b, r, 8, r.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            default -> flipBits(b, r);
        };
    }

    static byte[] flipBits(byte[] b, SplittableRandom r) {
        if (b.length == 0) return b;
        byte[] c = b.clone();
        for (int i = 1 + r.nextInt(8); i > 0; i--) c[r.nextInt(c.length)] ^= (byte) (1 << r.nextInt(8));
        return c;
    }

    static byte[] setByte(byte[] b, SplittableRandom r) {
        if (b.length == 0) return b;
        byte[] c = b.clone();
        byte[] values = {0, (byte) 0xff, 0x7f, (byte) 0x80, 1, '{', '}', '[', ']', '"', ',', ':', '-', '9', '\\', ' '};
        c[r.nextInt(c.length)] = values[r.nextInt(values.length)];
        return c;
    }

    static byte[] truncate(byte[] b, SplittableRandom r) { return b.length == 0 ? b : Arrays.copyOf(b, r.nextInt(b.length)); }

    static byte[] extend(byte[] b, SplittableRandom r) {
        int extra = r.nextInt(4) == 0 ? 1 + r.nextInt(4096) : 1 + r.nextInt(16);
        byte[] c = Arrays.copyOf(b, b.length + extra);
        if (r.nextBoolean()) for (int i = b.length; i < c.length; i++) c[i] = (byte) r.nextInt(256);
        return c;
    }

    static byte[] deleteRange(byte[] b, SplittableRandom r) {
        if (b.length < 2) return b;
        int from = r.nextInt(b.length), len = 1 + r.nextInt(Math.min(64, b.length - from));
        byte[] c = new byte[b.length - len];
        System.arraycopy(b, 0, c, 0, from);
        System.arraycopy(b, from + len, c, from, b.length - from - len);
        return c;
    }

    static byte[] repeatRange(byte[] b, SplittableRandom r) {
        if (b.length == 0) return b;
        int from = r.nextInt(b.length), len = 1 + r.nextInt(Math.min(64, b.length - from));
        byte[] c = new byte[b.length + len];
        System.arraycopy(b, 0, c, 0, from + len);
        System.arraycopy(b, from, c, from + len, b.length - from);
        return c;
    }

    /** A {@code width}-byte field at a random (usually aligned, often leading) offset set to an interesting value. */
    static byte[] overwrite(byte[] b, SplittableRandom r, int width, ByteOrder order) {
        if (b.length < width) return b;
        int at = r.nextInt(3) == 0 ? width * r.nextInt(Math.min(4, b.length / width)) : r.nextInt(b.length - width + 1);
        return put(b, at, width, order, interesting(r, b.length));
    }

    /** {@code value} written over {@code width} bytes at {@code at}. */
    static byte[] put(byte[] b, int at, int width, ByteOrder order, long value) {
        byte[] c = b.clone();
        ByteBuffer buf = ByteBuffer.wrap(c).order(order);
        if (width == 4) buf.putInt(at, (int) value);
        else buf.putLong(at, value);
        return c;
    }

    /** An interesting value, or one near {@code size} (claims just off the truth). */
    static long interesting(SplittableRandom r, long size) {
        if (r.nextInt(4) == 0) return size + r.nextInt(17) - 8;
        return INTERESTING[r.nextInt(INTERESTING.length)];
    }
}
