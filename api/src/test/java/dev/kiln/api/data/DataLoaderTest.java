package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    /** 103 examples of shape [2, 2]; every feature of example i equals i, so features identify examples. */
    private static InMemoryDataset dataset() {
        int n = 103;
        float[] f = new float[n * 4];
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            Arrays.fill(f, i * 4, i * 4 + 4, i);
            l[i] = i % 7;
        }
        return new InMemoryDataset(f, l, Shape.of(2, 2), 7);
    }

    /** The example ids visited by one epoch, checking each batch's consistency on the way. */
    private static List<Integer> visit(Iterable<Batch> epoch, int batchSize) {
        List<Integer> seen = new ArrayList<>();
        for (Batch b : epoch) {
            assertEquals(Shape.of(b.size(), 2, 2), b.featureShape());
            assertTrue(b.size() <= batchSize);
            for (int i = 0; i < b.size(); i++) {
                int id = (int) b.features()[i * 4];
                assertEquals(id, (int) b.features()[i * 4 + 3]);
                assertEquals(id % 7, b.labels()[i]);
                seen.add(id);
            }
        }
        return seen;
    }

    @Test void everyExampleExactlyOncePerEpoch() {
        DataLoader loader = DataLoader.builder(dataset(), 10).seed(42).build();
        assertEquals(11, loader.batchesPerEpoch());
        for (int e = 0; e < 3; e++) {
            List<Integer> seen = visit(loader, 10);
            assertEquals(103, seen.size());
            assertEquals(103, seen.stream().distinct().count());
        }
    }

    @Test void shufflesDifferentlyEachEpochButDeterministically() {
        DataLoader a = DataLoader.builder(dataset(), 16).seed(7).build();
        DataLoader b = DataLoader.builder(dataset(), 16).seed(7).build();
        List<Integer> a0 = visit(a, 16), a1 = visit(a, 16);
        assertNotEquals(a0, a1);
        assertEquals(a0, visit(b, 16));
        assertEquals(a1, visit(b, 16));
        assertEquals(a1, visit(a.epoch(1), 16)); // replay is independent of iteration history
        assertNotEquals(a0, visit(DataLoader.builder(dataset(), 16).seed(8).build(), 16));
        List<Integer> sorted = new ArrayList<>(a0);
        sorted.sort(null);
        assertNotEquals(sorted, a0);
    }

    @Test void noShuffleKeepsIndexOrder() {
        List<Integer> seen = visit(DataLoader.builder(dataset(), 50).shuffle(false).build(), 50);
        for (int i = 0; i < seen.size(); i++) assertEquals(i, seen.get(i));
    }

    @Test void dropLastDropsTheRemainder() {
        DataLoader loader = DataLoader.builder(dataset(), 10).dropLast(true).build();
        assertEquals(10, loader.batchesPerEpoch());
        assertEquals(100, loader.examplesPerEpoch());
        List<Integer> seen = visit(loader, 10);
        assertEquals(100, seen.size());
        assertEquals(100, seen.stream().distinct().count());
        for (Batch b : loader) assertEquals(10, b.size());
    }

    @Test void lastPartialBatchIsKeptByDefault() {
        List<Batch> batches = new ArrayList<>();
        DataLoader.of(dataset(), 25).forEach(batches::add);
        assertEquals(5, batches.size());
        assertEquals(3, batches.get(4).size());
        assertEquals(3, batches.get(4).labels().length); // fresh arrays are exact-sized
    }

    @Test void reusedBuffersAreRefilled() {
        DataLoader loader = DataLoader.builder(dataset(), 25).reuseBuffers(true).seed(3).build();
        float[] first = null;
        int count = 0;
        List<Integer> seen = new ArrayList<>();
        for (Batch b : loader) {
            if (first == null) first = b.features();
            assertSame(first, b.features());
            assertEquals(25 * 4, b.features().length);
            for (int i = 0; i < b.size(); i++) seen.add((int) b.features()[i * 4]);
            count++;
        }
        assertEquals(5, count);
        assertEquals(103, seen.stream().distinct().count());
        assertEquals(visit(DataLoader.builder(dataset(), 25).seed(3).build(), 25), seen);
    }

    @Test void splitIsDisjointCompleteAndDeterministic() {
        InMemoryDataset ds = dataset();
        Dataset.Partition p = ds.split(0.8, 1);
        assertEquals(82, p.first().size());
        assertEquals(21, p.second().size());
        List<Integer> ids = new ArrayList<>(visit(DataLoader.of(p.first(), 8), 8));
        ids.addAll(visit(DataLoader.of(p.second(), 8), 8));
        assertEquals(103, ids.stream().distinct().count());
        Dataset.Partition q = ds.split(0.8, 1);
        for (int i = 0; i < 21; i++) assertEquals(p.second().label(i), q.second().label(i));
        assertEquals(Shape.of(2, 2), p.first().exampleShape());
        assertThrows(IllegalArgumentException.class, () -> ds.split(1.5, 0));
    }

    @Test void subsetIsAView() {
        Dataset s = dataset().subset(new int[] {5, 9});
        assertEquals(2, s.size());
        assertEquals(9 % 7, s.label(1));
        float[] dst = new float[4];
        s.features(0, dst, 0);
        assertEquals(5f, dst[0]);
        assertThrows(IndexOutOfBoundsException.class, () -> dataset().subset(new int[] {103}));
    }

    @Test void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> DataLoader.of(dataset(), 0));
        assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset(new float[3], new int[1], Shape.of(2, 2), 10));
        assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset(new float[4], new int[] {10}, Shape.of(2, 2), 10));
    }
}
