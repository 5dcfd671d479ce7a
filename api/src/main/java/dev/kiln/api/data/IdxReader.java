package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the IDX files of the MNIST family: unsigned-byte images (magic {@code 0x00000803}, dims
 * count × rows × cols) and unsigned-byte labels ({@code 0x00000801}, dim count), big-endian.
 * Gzip is recognised by its {@code 1f 8b} magic rather than the file name, because downloads
 * are often decompressed by a browser and keep (or lose) ".gz" arbitrarily.
 *
 * <p>The header is read and checked before any data: the magic (type code and rank), each
 * dimension, and that their product fits one Java array and the file. Data is then read as it
 * arrives, so memory follows what the file really holds rather than what its header claims, and
 * nothing past the claimed size is inflated beyond a small look-ahead. Every fault is a
 * {@link DatasetException} naming the file.
 */
public final class IdxReader {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;
    /** IDX type code of unsigned bytes, the only element type the MNIST family uses. */
    private static final int UNSIGNED_BYTE = 0x08;
    /** The longest array every JVM allocates. */
    static final int MAX_BYTES = Integer.MAX_VALUE - 8;
    /** Deflate cannot compress better than this (zlib's technical notes), which bounds what a gzip file can inflate to. */
    private static final long MAX_DEFLATE_RATIO = 1032;
    /** How far past the claimed data a gzip stream is inflated to say how much too long it is. */
    private static final int TRAILING_LOOK_AHEAD = 1 << 16;
    private static final int FIRST_CHUNK = 1 << 16;

    private IdxReader() {}

    /** Images as stored: {@code count * rows * cols} unsigned bytes in row-major order. */
    public record Images(int count, int rows, int cols, byte[] pixels) {
        /** Pixels scaled to [0, 1] floats (divided by 255), the form the models train on. */
        public float[] toFloats() {
            float[] out = new float[pixels.length];
            for (int i = 0; i < out.length; i++) out[i] = (pixels[i] & 0xff) * (1f / 255f);
            return out;
        }
    }

    /** Reads an image file (3-dimensional unsigned-byte IDX), gzipped or raw. */
    public static Images readImages(Path file) {
        Idx idx = read(file, IMAGES_MAGIC, 3, "images");
        return new Images(idx.dims[0], idx.dims[1], idx.dims[2], idx.data);
    }

    /** Reads a label file (1-dimensional unsigned-byte IDX), gzipped or raw; values 0..255. */
    public static int[] readLabels(Path file) {
        Idx idx = read(file, LABELS_MAGIC, 1, "labels");
        int[] labels = new int[idx.data.length];
        for (int i = 0; i < labels.length; i++) labels[i] = idx.data[i] & 0xff;
        return labels;
    }

    /**
     * Reads a matching pair of image and label files into a dataset of {@code [rows, cols]}
     * examples scaled to [0, 1]. The counts must agree and every label must be below {@code numClasses}.
     */
    public static ImageDataset load(Path images, Path labels, int numClasses) {
        Images img = readImages(images);
        int[] lab = readLabels(labels);
        if (img.count() != lab.length) {
            throw new DatasetException(labels, "expected " + img.count() + " labels to match the images in "
                    + images + " but found " + lab.length);
        }
        for (int i = 0; i < lab.length; i++) {
            if (lab[i] >= numClasses) {
                throw new DatasetException(labels, "expected labels in [0, " + numClasses + ") but label "
                        + i + " is " + lab[i]);
            }
        }
        return new ImageDataset(img.pixels(), lab, Shape.of(img.rows(), img.cols()), numClasses);
    }

    private record Idx(int[] dims, byte[] data) {}

    private static Idx read(Path file, int magic, int rank, String what) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            long fileSize = Files.size(file);
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            try (InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw) {
                int[] dims = header(file, in, magic, rank, what, gzip);
                long need = dataBytes(file, dims);
                int headerBytes = 4 + 4 * rank;
                if (!gzip && fileSize - headerBytes != need) { // the exact answer is at hand: no need to read
                    throw sizeMismatch(file, dims, need, fileSize - headerBytes, false);
                }
                if (!gzip) return new Idx(dims, chunked(file, headerBytes, (int) need));
                if (gzip && headerBytes + need > MAX_DEFLATE_RATIO * fileSize) {
                    throw new DatasetException(file, "truncated or corrupt: header dimensions " + Arrays.toString(dims) + " need " + need
                            + " data bytes but a gzip file of " + fileSize + " bytes inflates to at most " + MAX_DEFLATE_RATIO * fileSize);
                }
                // A raw file's size was checked against the header: its array can be allocated whole. A
                // gzip stream's may be a lie, so memory follows what arrives, from a first guess that
                // covers the usual ratios (image data compresses about 2:1) without regrowing.
                int first = gzip ? (int) Math.min(need, Math.max(FIRST_CHUNK, 16 * fileSize)) : (int) need;
                return new Idx(dims, body(file, in, dims, (int) need, first));
            } catch (EOFException e) {
                throw new DatasetException(file, "truncated gzip stream: expected more compressed data but the file ended"
                        + " (an interrupted download? delete it and fetch it again)", e);
            } catch (ZipException e) {
                throw new DatasetException(file, "corrupt gzip data: " + e.getMessage(), e);
            }
        } catch (NoSuchFileException e) {
            throw new DatasetException(file, "file not found", e);
        } catch (IOException e) {
            throw new DatasetException(file, "cannot read: " + e, e);
        }
    }

    /** Reads and checks the magic and the dimensions. */
    private static int[] header(Path file, InputStream in, int magic, int rank, String what, boolean gzip) throws IOException {
        int headerBytes = 4 + 4 * rank;
        byte[] h = in.readNBytes(headerBytes);
        ByteBuffer buf = ByteBuffer.wrap(h); // big-endian by default, as IDX is
        // The magic comes first so a swapped images/labels pair is named as such, not as "truncated".
        if (h.length >= 4) {
            int found = buf.getInt();
            if (found != magic) {
                throw new DatasetException(file, String.format("not an IDX %s file: expected magic 0x%08x but found 0x%08x%s",
                        what, magic, found, magicGuess(found)));
            }
        }
        if (h.length < headerBytes) {
            throw new DatasetException(file, "truncated: expected an IDX " + what + " header of " + headerBytes + " bytes but the "
                    + (gzip ? "decompressed data has" : "file has") + " only " + h.length + " bytes");
        }
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = buf.getInt();
            if (dims[i] < 0) {
                throw new DatasetException(file, "corrupt header: dimension " + i + " is negative (" + dims[i] + ")");
            }
        }
        return dims;
    }

    /** What a wrong magic probably is, so the message can say more than two hex numbers. */
    private static String magicGuess(int found) {
        if (found == IMAGES_MAGIC) return " (an image file)";
        if (found == LABELS_MAGIC) return " (a label file)";
        if ((found >>> 16) != 0) return " (not an IDX file at all)";
        int type = (found >>> 8) & 0xff;
        if (type != UNSIGNED_BYTE) return String.format(" (IDX element type 0x%02x; Kiln reads unsigned bytes, 0x%02x)", type, UNSIGNED_BYTE);
        return " (an IDX file of rank " + (found & 0xff) + ")";
    }

    /** The product of the dimensions, refused when one array cannot hold it. */
    private static long dataBytes(Path file, int[] dims) {
        if (Arrays.stream(dims).anyMatch(d -> d == 0)) return 0;
        long n = 1;
        for (int d : dims) {
            n *= d; // each factor is below 2^31 and the running product below 2^31 too, so this cannot wrap
            if (n > MAX_BYTES) {
                throw new DatasetException(file, "corrupt header: dimensions " + Arrays.toString(dims)
                        + " need more data bytes than one Java array holds (" + MAX_BYTES + ")");
            }
        }
        return n;
    }

    /**
     * A raw file's data, read in chunks of 1 MiB: a read into a heap array goes through a
     * temporary native buffer as large as the read, which the JDK keeps and reuses only when it is
     * small, and faulting in a fresh one as large as the file cost several times as much here.
     */
    private static byte[] chunked(Path file, long offset, int need) throws IOException {
        byte[] data = new byte[need];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.position(offset);
            for (int filled = 0; filled < need; ) {
                int r = ch.read(ByteBuffer.wrap(data, filled, Math.min(1 << 20, need - filled)));
                if (r < 0) throw new EOFException(file + " ended after " + filled + " of " + need + " data bytes");
                filled += r;
            }
        }
        return data;
    }

    /** Exactly {@code need} bytes, grown as they arrive, then a check that the stream ends there. */
    private static byte[] body(Path file, InputStream in, int[] dims, int need, int first) throws IOException {
        byte[] data = new byte[first];
        int filled = 0;
        while (filled < need) {
            if (filled == data.length) data = Arrays.copyOf(data, (int) Math.min(need, 2L * data.length));
            int r = in.read(data, filled, data.length - filled);
            if (r < 0) throw sizeMismatch(file, dims, need, filled, false);
            filled += r;
        }
        // A header claiming little in front of a gzip bomb: look a little way on, not to the end.
        byte[] rest = new byte[8192];
        long extra = 0;
        for (int r; extra <= TRAILING_LOOK_AHEAD && (r = in.read(rest)) >= 0; ) extra += r;
        if (extra > TRAILING_LOOK_AHEAD) throw sizeMismatch(file, dims, need, need + TRAILING_LOOK_AHEAD, true);
        if (extra > 0) throw sizeMismatch(file, dims, need, need + extra, false);
        return data;
    }

    private static DatasetException sizeMismatch(Path file, int[] dims, long need, long found, boolean atLeast) {
        return new DatasetException(file, (found < need ? "truncated: " : "size mismatch: ") + "header dimensions "
                + Arrays.toString(dims) + " need " + need + " data bytes but found " + (atLeast ? "more than " : "") + found);
    }
}
