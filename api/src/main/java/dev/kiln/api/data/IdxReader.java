package dev.kiln.api.data;

import dev.kiln.core.Shape;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the IDX files of the MNIST family: unsigned-byte images (magic {@code 0x00000803}, dims
 * count × rows × cols) and unsigned-byte labels ({@code 0x00000801}, dim count), big-endian.
 * Gzip is recognised by its {@code 1f 8b} magic rather than the file name, because downloads
 * are often decompressed by a browser and keep (or lose) ".gz" arbitrarily.
 */
public final class IdxReader {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

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
        byte[] data = readAll(file);
        int[] dims = header(file, data, IMAGES_MAGIC, 3, "images");
        byte[] pixels = new byte[data.length - 16];
        System.arraycopy(data, 16, pixels, 0, pixels.length);
        return new Images(dims[0], dims[1], dims[2], pixels);
    }

    /** Reads a label file (1-dimensional unsigned-byte IDX), gzipped or raw; values 0..255. */
    public static int[] readLabels(Path file) {
        byte[] data = readAll(file);
        int[] dims = header(file, data, LABELS_MAGIC, 1, "labels");
        int[] labels = new int[dims[0]];
        for (int i = 0; i < labels.length; i++) labels[i] = data[8 + i] & 0xff;
        return labels;
    }

    /**
     * Reads a matching pair of image and label files into a dataset of {@code [rows, cols]}
     * examples scaled to [0, 1]. The counts must agree and every label must be below {@code numClasses}.
     */
    public static InMemoryDataset load(Path images, Path labels, int numClasses) {
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
        return new InMemoryDataset(img.toFloats(), lab, Shape.of(img.rows(), img.cols()), numClasses);
    }

    /** Whole file, decompressed when it starts with the gzip magic. */
    static byte[] readAll(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            if (!gzip) return raw.readAllBytes();
            try (InputStream in = new GZIPInputStream(raw, 1 << 16)) {
                return in.readAllBytes();
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

    /** Checks magic, rank and byte count; returns the dimensions. */
    private static int[] header(Path file, byte[] data, int magic, int rank, String what) {
        int headerBytes = 4 + 4 * rank;
        ByteBuffer buf = ByteBuffer.wrap(data); // big-endian by default, as IDX is
        // The magic comes first so a swapped images/labels pair is named as such, not as "truncated".
        if (data.length >= 4) {
            int found = buf.getInt();
            if (found != magic) {
                String guess = found == IMAGES_MAGIC ? " (an image file)" : found == LABELS_MAGIC ? " (a label file)" : "";
                throw new DatasetException(file, String.format(
                        "not an IDX %s file: expected magic 0x%08x but found 0x%08x%s", what, magic, found, guess));
            }
        }
        if (data.length < headerBytes) {
            throw new DatasetException(file, "truncated: expected an IDX " + what + " header of " + headerBytes
                    + " bytes but the file has only " + data.length + " bytes");
        }
        int[] dims = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = buf.getInt();
            if (dims[i] < 0) {
                throw new DatasetException(file, "corrupt header: dimension " + i + " is negative (" + dims[i] + ")");
            }
            expected *= dims[i];
        }
        long present = data.length - headerBytes;
        if (present != expected) {
            String dimText = java.util.Arrays.toString(dims);
            throw new DatasetException(file, (present < expected ? "truncated: " : "size mismatch: ")
                    + "header dimensions " + dimText + " need " + expected + " data bytes but found " + present);
        }
        return dims;
    }
}
