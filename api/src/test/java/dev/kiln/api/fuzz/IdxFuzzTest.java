package dev.kiln.api.fuzz;

import static dev.kiln.api.data.IdxFiles.gzip;

import dev.kiln.api.data.DatasetException;
import dev.kiln.api.data.IdxReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link IdxReader} on mutated image and label files, raw and gzipped, and on gzip bombs: every
 * input is read or refused with a {@link DatasetException}, within its memory and time budget.
 * A few thousand inputs run in every build; {@code -Pfuzz} (or {@code -Dkiln.fuzz.iterations=N})
 * runs more; see {@code docs/fuzzing.md}.
 */
class IdxFuzzTest {
    static final int IMAGES = 0x00000803, LABELS = 0x00000801;
    /** A gzip member of 1 MiB of zeros: repeated, a small file that inflates to many MiB. */
    static final byte[] ZEROS_MEMBER = gzip(new byte[1 << 20]);

    @TempDir Path dir;

    @Test void everyInputIsReadOrRefusedWithADatasetException() {
        FuzzRun run = new FuzzRun("idx", Set.of(DatasetException.class), IdxFuzzTest::budget);
        run.run(FuzzRun.iterations(2000), dir.resolve("input"), IdxFuzzTest::input, (file, seed) -> {
            if (seed % 2 == 0) IdxReader.readImages(file);
            else IdxReader.readLabels(file);
        });
    }

    /**
     * What reading {@code input} may allocate: buffers, plus a few times the data its header
     * claims (labels are held as bytes and then ints) but never more than the file can hold. A
     * reader that inflates a bomb to look at its header, or believes a claim the file cannot
     * back, goes over.
     */
    static long budget(byte[] input) {
        boolean gzip = input.length > 1 && input[0] == 0x1f && input[1] == (byte) 0x8b;
        long claim;
        try (InputStream in = gzip ? new GZIPInputStream(new ByteArrayInputStream(input)) : new ByteArrayInputStream(input)) {
            ByteBuffer h = ByteBuffer.wrap(in.readNBytes(16));
            int rank = h.remaining() >= 4 ? h.getInt() & 0xff : 0;
            claim = 1;
            for (int i = 0; i < Math.min(rank, 3) && h.remaining() >= 4; i++) claim = Math.min(claim, 1L << 31) * Math.max(0, h.getInt()); // saturates instead of wrapping
        } catch (IOException | RuntimeException e) {
            claim = 0; // a stream that does not open claims nothing
        }
        long holds = gzip ? 1100L * input.length : input.length;
        return (1L << 20) + 64L * input.length + 6 * Math.min(claim, holds);
    }

    /** Even seeds are read as images, odd ones as labels; one input in ten is the other kind. */
    static byte[] input(SplittableRandom r, long seed) {
        boolean images = (seed % 2 == 0) != (r.nextInt(10) == 0);
        byte[] valid = images ? images(r) : labels(r);
        return switch (r.nextInt(10)) {
            case 0, 1, 2 -> Mutations.mutate(valid, r);                       // raw, mutated
            case 3, 4 -> gzip(Mutations.mutate(valid, r));                     // well-formed gzip of a mutated file
            case 5 -> Mutations.mutate(gzip(valid), r);                        // a corrupt gzip stream
            case 6 -> r.nextBoolean() ? gzip(lyingHeader(valid, r)) : lyingHeader(valid, r);
            case 7 -> bomb(valid, r);
            case 8 -> concat(gzip(valid), r.nextBoolean() ? gzip(valid) : Mutations.extend(new byte[0], r));
            default -> r.nextBoolean() ? gzip(valid) : valid;                  // valid files must read
        };
    }

    static byte[] images(SplittableRandom r) {
        int count = r.nextInt(12), rows = 1 + r.nextInt(6), cols = 1 + r.nextInt(6);
        ByteBuffer b = ByteBuffer.allocate(16 + count * rows * cols).putInt(IMAGES).putInt(count).putInt(rows).putInt(cols);
        while (b.hasRemaining()) b.put((byte) r.nextInt(256));
        return b.array();
    }

    static byte[] labels(SplittableRandom r) {
        int count = r.nextInt(40);
        ByteBuffer b = ByteBuffer.allocate(8 + count).putInt(LABELS).putInt(count);
        while (b.hasRemaining()) b.put((byte) r.nextInt(10));
        return b.array();
    }

    /** A header field (magic or a dimension) set to a value a parser might believe. */
    static byte[] lyingHeader(byte[] valid, SplittableRandom r) {
        int fields = valid.length >= 16 && ByteBuffer.wrap(valid).getInt() == IMAGES ? 4 : 2;
        return Mutations.put(valid, 4 * r.nextInt(fields), 4, ByteOrder.BIG_ENDIAN, Mutations.interesting(r, valid.length));
    }

    /** A header, honest or not, in front of 8 to 24 MiB of zeros in 1 MiB gzip members. */
    static byte[] bomb(byte[] valid, SplittableRandom r) {
        byte[] head = r.nextBoolean() ? valid : lyingHeader(valid, r);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(gzip(head));
        for (int i = 8 + r.nextInt(17); i > 0; i--) out.writeBytes(ZEROS_MEMBER);
        return out.toByteArray();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
