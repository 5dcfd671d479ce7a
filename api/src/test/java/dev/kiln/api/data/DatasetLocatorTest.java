package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetLocatorTest {
    @TempDir Path tmp;

    private DatasetLocator fashionWithSystemDir(Path systemDir) {
        return FashionMnist.LOCATOR.withSystemDir(systemDir);
    }

    @Test void missingDatasetListsEveryPlaceAndHowToGetIt() throws Exception {
        Path env = Files.createDirectories(tmp.resolve("env"));
        Path home = Files.createDirectories(tmp.resolve("home"));
        Path system = tmp.resolve("system");
        DatasetException e = assertThrows(DatasetException.class, () -> fashionWithSystemDir(system)
                .load(null, Split.TRAIN, Map.of("KILN_DATASETS", env.toString()), home));
        String m = e.getMessage();
        assertTrue(m.contains(env.resolve("fashion-mnist").toString()), m);
        assertTrue(m.contains(home.resolve(".kiln/datasets/fashion-mnist").toString()), m);
        assertTrue(m.contains(system.toString()), m);
        assertTrue(m.contains("sudo apt-get install dataset-fashion-mnist"), m);
        assertTrue(m.contains("github.com/zalandoresearch/fashion-mnist"), m);
        assertTrue(m.contains("KILN_DATASETS"), m);
        assertTrue(m.contains("train-images-idx3-ubyte.gz"), m);
    }

    @Test void partialDirectoryNamesTheMissingFile() {
        Path d = tmp.resolve("partial");
        IdxFiles.write(d.resolve("t10k-images-idx3-ubyte"), IdxFiles.images(1, 1, 1, new byte[1]));
        DatasetException e = assertThrows(DatasetException.class,
                () -> fashionWithSystemDir(null).load(d, Split.TEST, Map.of(), null));
        assertTrue(e.getMessage().contains("missing t10k-labels-idx1-ubyte"), e.getMessage());
    }

    @Test void mnistHintDoesNotPromiseAnAptPackage() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> Mnist.LOCATOR.withSystemDir(tmp.resolve("none")).load(null, Split.TRAIN, Map.of(), tmp));
        assertTrue(e.getMessage().contains("no MNIST package"), e.getMessage());
        assertTrue(e.getMessage().contains(tmp.resolve(".kiln/datasets/mnist").toString()), e.getMessage());
    }

    @Test void findsEnvDirectoryFirst() {
        Path env = tmp.resolve("env");
        Path home = tmp.resolve("home");
        IdxFiles.writeDataset(env.resolve("fashion-mnist"), 12, 4);
        IdxFiles.writeDataset(home.resolve(".kiln/datasets/fashion-mnist"), 7, 3);
        DatasetLocator loc = fashionWithSystemDir(tmp.resolve("none"));
        assertEquals(12, loc.load(null, Split.TRAIN, Map.of("KILN_DATASETS", env.toString()), home).size());
        assertEquals(7, loc.load(null, Split.TRAIN, Map.of(), home).size());
        assertEquals(3, loc.load(null, Split.TEST, Map.of(), home).size());
    }

    @Test void explicitDirectoryIsAuthoritative() {
        Path home = tmp.resolve("home");
        IdxFiles.writeDataset(home.resolve(".kiln/datasets/fashion-mnist"), 7, 3);
        Path empty = tmp.resolve("empty");
        DatasetLocator loc = fashionWithSystemDir(null);
        DatasetException e = assertThrows(DatasetException.class, () -> loc.load(empty, Split.TRAIN, Map.of(), home));
        assertTrue(e.getMessage().contains(empty + ": no such directory"), e.getMessage());
        assertEquals(7, loc.load(home.resolve(".kiln/datasets/fashion-mnist"), Split.TRAIN, Map.of(), null).size());
    }
}
