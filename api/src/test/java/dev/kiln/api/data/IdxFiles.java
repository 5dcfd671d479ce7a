package dev.kiln.api.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Builds small IDX files by hand for the tests (the fuzz suite's too). */
public final class IdxFiles {
    private IdxFiles() {}

    static byte[] images(int count, int rows, int cols, byte[] pixels) {
        ByteBuffer b = ByteBuffer.allocate(16 + pixels.length);
        b.putInt(IdxReader.IMAGES_MAGIC).putInt(count).putInt(rows).putInt(cols).put(pixels);
        return b.array();
    }

    static byte[] labels(int... labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(IdxReader.LABELS_MAGIC).putInt(labels.length);
        for (int l : labels) b.put((byte) l);
        return b.array();
    }

    public static byte[] gzip(byte[] data) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) { gz.write(data); }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path file, byte[] data) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Pixels 0, 1, 2, ... wrapping at 256, so 255 appears when there are enough of them. */
    static byte[] ramp(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) p[i] = (byte) i;
        return p;
    }

    /** Writes a complete four-file dataset of tiny 2x3 images into {@code dir}, gzipped. */
    static void writeDataset(Path dir, int trainCount, int testCount) {
        for (Split s : Split.values()) {
            int n = s == Split.TRAIN ? trainCount : testCount;
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = i % 10;
            write(dir.resolve(s.filePrefix() + "-images-idx3-ubyte.gz"), gzip(images(n, 2, 3, ramp(n * 6))));
            write(dir.resolve(s.filePrefix() + "-labels-idx1-ubyte.gz"), gzip(labels(labels)));
        }
    }
}
