package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.core.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Loads the real data set from the Debian package, when it is installed. */
class FashionMnistTest {
    private static final Path SYSTEM = Path.of("/usr/share/datasets/fashion-mnist");

    private static void check(ImageDataset images, int expectedSize) {
        InMemoryDataset ds = images.toInMemory();
        assertEquals(expectedSize, ds.size());
        assertEquals(Shape.of(28, 28), ds.exampleShape());
        assertEquals(10, ds.numClasses());
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (float v : ds.features()) { min = Math.min(min, v); max = Math.max(max, v); }
        assertEquals(0f, min);
        assertEquals(1f, max);
        int[] perClass = new int[10];
        for (int l : ds.labels()) perClass[l]++; // an out-of-range label would throw here
        for (int c = 0; c < 10; c++) assertEquals(expectedSize / 10, perClass[c], "class " + c); // balanced
    }

    @Test void realDatasetLoads() {
        assumeTrue(Files.isDirectory(SYSTEM),
                SYSTEM + " is absent; install it with 'sudo apt-get install dataset-fashion-mnist' to run this test");
        check(FashionMnist.load(SYSTEM, Split.TRAIN), 60000);
        check(FashionMnist.load(SYSTEM, Split.TEST), 10000);
    }
}
