package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.core.Shape;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
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

        ImageDataset ds = IdxReader.load(ip, lp, 10);
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
        float[] all = ds.toInMemory().features();
        for (float v : all) assertTrue(v >= 0f && v <= 1f);
        // Scaled as read, to the very bits the float copy holds.
        float[] one = new float[ROWS * COLS];
        for (int i = 0; i < N; i++) {
            ds.features(i, one, 0);
            for (int j = 0; j < one.length; j++) assertEquals(Float.floatToIntBits(all[i * one.length + j]), Float.floatToIntBits(one[j]), "image " + i + " pixel " + j);
        }
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

    // ---- headers that lie ----------------------------------------------------------------------

    private DatasetException refused(String name, byte[] content, boolean labels) {
        Path p = IdxFiles.write(dir.resolve(name), content);
        DatasetException e = assertThrows(DatasetException.class, () -> {
            if (labels) IdxReader.readLabels(p);
            else IdxReader.readImages(p);
        });
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        return e;
    }

    private static byte[] labelHeader(int count) { return ByteBuffer.allocate(8).putInt(IdxReader.LABELS_MAGIC).putInt(count).array(); }

    @Test void aGzipBombBehindAOneLabelHeaderIsNotInflated() {
        // 1 MB of gzip members that inflate to 1 GiB, the first of them opening with a header claiming one label.
        int member = 8 << 20;
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        byte[] first = Arrays.copyOf(labelHeader(1), member);
        bomb.writeBytes(IdxFiles.gzip(first));
        byte[] zeros = IdxFiles.gzip(new byte[member]);
        for (int i = 1; i < 128; i++) bomb.writeBytes(zeros);
        assertTrue(bomb.size() < 2 << 20, "the bomb is small: " + bomb.size());
        DatasetException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> refused("bomb.gz", bomb.toByteArray(), true));
        // Inflating it all to count would say "found 1073741816"; the reader stops a little past the claim.
        assertTrue(e.getMessage().contains("size mismatch: header dimensions [1] need 1 data bytes but found more than 65537"), e.getMessage());
    }

    @Test void aHugeCountIsRefusedBeforeAnythingThatSizeIsAllocated() {
        DatasetException raw = refused("huge", Arrays.copyOf(labelHeader(Integer.MAX_VALUE - 8), 20), true);
        assertTrue(raw.getMessage().contains("truncated: header dimensions [2147483639] need 2147483639 data bytes but found 12"), raw.getMessage());
        DatasetException gz = refused("huge.gz", IdxFiles.gzip(Arrays.copyOf(labelHeader(Integer.MAX_VALUE - 8), 20)), true);
        assertTrue(gz.getMessage().contains("need 2147483639 data bytes but a gzip file of") && gz.getMessage().contains("inflates to at most"), gz.getMessage());
        DatasetException tooBig = refused("too-big", IdxFiles.images(65536, 65536, 65536, new byte[4]), false);
        assertTrue(tooBig.getMessage().contains("dimensions [65536, 65536, 65536] need more data bytes than one Java array holds"), tooBig.getMessage());
        DatasetException negative = refused("negative", IdxFiles.images(3, -28, 28, new byte[0]), false);
        assertTrue(negative.getMessage().contains("dimension 1 is negative (-28)"), negative.getMessage());
    }

    @Test void aClaimWithinTheGzipBoundButBeyondTheDataIsTruncated() {
        // Incompressible data, so the claim (1 MB) is plausible for the file size but the stream ends first.
        byte[] noise = new byte[50_000];
        new SplittableRandom(1).nextBytes(noise);
        byte[] content = ByteBuffer.allocate(8 + noise.length).putInt(IdxReader.LABELS_MAGIC).putInt(1_000_000).put(noise).array();
        DatasetException e = refused("short-claim.gz", IdxFiles.gzip(content), true);
        assertTrue(e.getMessage().contains("truncated: header dimensions [1000000] need 1000000 data bytes but found 50000"), e.getMessage());
    }

    @Test void otherElementTypesAndRanksAreNamed() {
        byte[] floats = IdxFiles.images(N, ROWS, COLS, pixels());
        floats[2] = 0x0d;
        assertTrue(refused("floats", floats, false).getMessage().contains("IDX element type 0x0d; Kiln reads unsigned bytes, 0x08"));
        byte[] rank2 = IdxFiles.images(N, ROWS, COLS, pixels());
        rank2[3] = 2;
        assertTrue(refused("rank2", rank2, false).getMessage().contains("an IDX file of rank 2"));
        assertTrue(refused("text", "hello, world".getBytes(), true).getMessage().contains("not an IDX file at all"));
    }

    @Test void emptyFilesAndACorruptGzipTrailer() {
        assertTrue(refused("empty", new byte[0], true).getMessage().contains("header of 8 bytes but the file has only 0 bytes"));
        byte[] gz = IdxFiles.gzip(IdxFiles.labels(LABELS));
        gz[gz.length - 6] ^= 0x55; // a CRC byte
        assertTrue(refused("bad-crc.gz", gz, true).getMessage().contains("corrupt gzip data"));
        Path none = IdxFiles.write(dir.resolve("no-labels"), labelHeader(0));
        assertEquals(0, IdxReader.readLabels(none).length, "an empty but well-formed file is fine");
    }
}
