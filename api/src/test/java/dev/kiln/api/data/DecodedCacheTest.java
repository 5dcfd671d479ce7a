package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decoded copies of gzipped dataset files: made once, never stale, never partial, never in the way. */
class DecodedCacheTest {
    @TempDir Path tmp;

    @Test void aGzippedFileIsDecodedOnceAndThenReadRaw() throws Exception {
        byte[] raw = IdxFiles.images(4, 2, 3, IdxFiles.ramp(24));
        Path gz = IdxFiles.write(tmp.resolve("src/train-images-idx3-ubyte.gz"), IdxFiles.gzip(raw));
        Path cache = tmp.resolve("cache");
        Path copy = DecodedCache.decoded(gz, cache);
        assertNotEquals(gz, copy);
        assertTrue(copy.startsWith(cache) && copy.getFileName().toString().endsWith("-train-images-idx3-ubyte"), copy.toString());
        assertArrayEquals(raw, Files.readAllBytes(copy));
        Files.write(copy, raw); // the same bytes again, so a second decode would not show; the modification time says whether it was rewritten
        FileTime made = Files.getLastModifiedTime(copy);
        Files.setLastModifiedTime(copy, FileTime.fromMillis(made.toMillis() - 60_000));
        assertEquals(copy, DecodedCache.decoded(gz, cache));
        assertEquals(made.toMillis() - 60_000, Files.getLastModifiedTime(copy).toMillis(), "the copy was reused, not decoded again");
        try (var files = Files.list(cache)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test void aChangedSourceGetsAFreshCopy() throws Exception {
        Path gz = IdxFiles.write(tmp.resolve("labels.gz"), IdxFiles.gzip(IdxFiles.labels(1, 2, 3)));
        Path cache = tmp.resolve("cache");
        Path first = DecodedCache.decoded(gz, cache);
        IdxFiles.write(gz, IdxFiles.gzip(IdxFiles.labels(4, 5, 6, 7)));
        Path second = DecodedCache.decoded(gz, cache);
        assertNotEquals(first, second);
        assertArrayEquals(new int[] {4, 5, 6, 7}, IdxReader.readLabels(second));
    }

    @Test void rawFilesAndACacheThatIsOffAreReadInPlace() {
        Path raw = IdxFiles.write(tmp.resolve("labels"), IdxFiles.labels(1, 2));
        assertEquals(raw, DecodedCache.decoded(raw, tmp.resolve("cache")));
        Path gz = IdxFiles.write(tmp.resolve("labels.gz"), IdxFiles.gzip(IdxFiles.labels(1, 2)));
        assertEquals(gz, DecodedCache.decoded(gz, null));
        assertNull(DecodedCache.directory(Map.of(DecodedCache.ENV, "off"), tmp));
        assertEquals(tmp.resolve("elsewhere/datasets"), DecodedCache.directory(Map.of(DecodedCache.ENV, tmp.resolve("elsewhere").toString()), tmp));
        assertEquals(tmp.resolve(".kiln/cache/datasets"), DecodedCache.directory(Map.of(), tmp));
        assertNull(DecodedCache.directory(Map.of(), null));
    }

    /** A truncated download is not cached; the reader, given the source, names it and says what is wrong. */
    @Test void aCorruptSourceIsLeftToTheReaderToReport() throws Exception {
        byte[] gzip = IdxFiles.gzip(IdxFiles.images(4, 2, 3, IdxFiles.ramp(24)));
        Path gz = IdxFiles.write(tmp.resolve("images.gz"), Arrays.copyOf(gzip, gzip.length - 9));
        Path cache = tmp.resolve("cache");
        assertEquals(gz, DecodedCache.decoded(gz, cache));
        assertTrue(!Files.exists(cache) || Files.list(cache).findAny().isEmpty(), "nothing cached from a corrupt file");
        DatasetException e = assertThrows(DatasetException.class, () -> IdxReader.readImages(DecodedCache.decoded(gz, cache)));
        assertTrue(e.getMessage().contains(gz.toString()), e.getMessage());
    }

    @Test void aCacheThatCannotBeWrittenIsNotAnError() throws Exception {
        Path gz = IdxFiles.write(tmp.resolve("labels.gz"), IdxFiles.gzip(IdxFiles.labels(3, 1)));
        Path blocked = Files.writeString(tmp.resolve("not-a-directory"), "x");
        assertEquals(gz, DecodedCache.decoded(gz, blocked.resolve("datasets")));
    }

    /** The same four files read through the cache and straight from the source give the same dataset. */
    @Test void theLocatorReadsThroughTheCacheToTheSameExamples() {
        Path home = tmp.resolve("home");
        IdxFiles.writeDataset(home.resolve(".kiln/datasets/fashion-mnist"), 20, 10);
        DatasetLocator loc = FashionMnist.LOCATOR.withSystemDir(null);
        ImageDataset cached = loc.load(null, Split.TRAIN, Map.of(), home);
        ImageDataset again = loc.load(null, Split.TRAIN, Map.of(), home);
        ImageDataset direct = loc.load(null, Split.TRAIN, Map.of(DecodedCache.ENV, "off"), home);
        assertTrue(Files.isDirectory(home.resolve(".kiln/cache/datasets")));
        for (ImageDataset d : new ImageDataset[] {cached, again}) {
            assertArrayEquals(direct.pixels(), d.pixels());
            assertArrayEquals(direct.labels(), d.labels());
        }
    }
}
