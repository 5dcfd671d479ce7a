package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.core.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir Path dir;

    private static final int N = 5, ROWS = 4, COLS = 3;
    private static final int[] LABELS = {3, 0, 9, 1, 7};

    private static byte[] pixels() {
        byte[] p = IdxFiles.ramp(N * ROWS * COLS);
        p[7] = (byte) 255; // the top of the range must map to exactly 1.0
        return p;
    }

    private void roundTrip(boolean gzip) {
        byte[] img = IdxFiles.images(N, ROWS, COLS, pixels());
        byte[] lab = IdxFiles.labels(LABELS);
        // Names without ".gz" even when gzipped: detection must go by the magic bytes.
        Path ip = IdxFiles.write(dir.resolve("images"), gzip ? IdxFiles.gzip(img) : img);
        Path lp = IdxFiles.write(dir.resolve("labels"), gzip ? IdxFiles.gzip(lab) : lab);

        InMemoryDataset ds = IdxReader.load(ip, lp, 10);
        assertEquals(N, ds.size());
        assertEquals(Shape.of(ROWS, COLS), ds.exampleShape());
        assertEquals(10, ds.numClasses());
        assertArrayEquals(LABELS, ds.labels());
        float[] ex = new float[ROWS * COLS + 2];
        ds.features(0, ex, 2);
        assertEquals(0f, ex[2]);
        assertEquals(1f / 255f, ex[3], 1e-7f);
        assertEquals(1f, ex[2 + 7]);
        ds.features(N - 1, ex, 0);
        assertEquals(((N - 1) * ROWS * COLS + 1) / 255f, ex[1], 1e-7f);
        for (float v : ds.features()) assertTrue(v >= 0f && v <= 1f);
    }

    @Test void roundTripRaw() { roundTrip(false); }

    @Test void roundTripGzip() { roundTrip(true); }

    @Test void truncatedRawFileNamesFileAndByteCounts() {
        byte[] img = IdxFiles.images(N, ROWS, COLS, pixels());
        Path p = IdxFiles.write(dir.resolve("short-images"), Arrays.copyOf(img, img.length - 10));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("need " + N * ROWS * COLS), e.getMessage());
        assertTrue(e.getMessage().contains("found " + (N * ROWS * COLS - 10)), e.getMessage());
        assertEquals(p, e.path());
    }

    @Test void truncatedGzipIsReportedAsSuch() {
        byte[] gz = IdxFiles.gzip(IdxFiles.images(N, ROWS, COLS, pixels()));
        Path p = IdxFiles.write(dir.resolve("short.gz"), Arrays.copyOf(gz, gz.length / 2));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("truncated gzip"), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test void headerShorterThanExpected() {
        Path p = IdxFiles.write(dir.resolve("tiny"), new byte[] {0, 0, 8, 3, 0});
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("header of 16 bytes"), e.getMessage());
    }

    @Test void corruptMagicShowsExpectedAndFound() {
        byte[] img = IdxFiles.images(N, ROWS, COLS, pixels());
        img[3] = 0x07;
        Path p = IdxFiles.write(dir.resolve("bad-magic"), img);
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("expected magic 0x00000803 but found 0x00000807"), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test void swappedFilesAreRecognised() {
        Path p = IdxFiles.write(dir.resolve("labels"), IdxFiles.labels(LABELS));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("a label file"), e.getMessage());
    }

    @Test void trailingBytesAreAnError() {
        byte[] lab = IdxFiles.labels(LABELS);
        Path p = IdxFiles.write(dir.resolve("long-labels"), Arrays.copyOf(lab, lab.length + 3));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.readLabels(p));
        assertTrue(e.getMessage().contains("need 5 data bytes but found 8"), e.getMessage());
    }

    @Test void countMismatchBetweenImagesAndLabels() {
        Path ip = IdxFiles.write(dir.resolve("images"), IdxFiles.images(N, ROWS, COLS, pixels()));
        Path lp = IdxFiles.write(dir.resolve("labels"), IdxFiles.labels(1, 2, 3));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.load(ip, lp, 10));
        assertTrue(e.getMessage().contains("expected 5 labels") && e.getMessage().contains("found 3"), e.getMessage());
        assertEquals(lp, e.path());
    }

    @Test void labelOutOfRange() {
        Path ip = IdxFiles.write(dir.resolve("images"), IdxFiles.images(N, ROWS, COLS, pixels()));
        Path lp = IdxFiles.write(dir.resolve("labels"), IdxFiles.labels(1, 2, 3, 12, 4));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.load(ip, lp, 10));
        assertTrue(e.getMessage().contains("label 3 is 12"), e.getMessage());
    }

    @Test void missingFile() {
        Path p = dir.resolve("nope");
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.readLabels(p));
        assertTrue(e.getMessage().contains("not found") && e.getMessage().contains(p.toString()), e.getMessage());
    }
}
