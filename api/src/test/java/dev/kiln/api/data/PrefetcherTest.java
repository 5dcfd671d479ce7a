package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.Shape;
import java.util.Arrays;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

class PrefetcherTest {
    private static InMemoryDataset data(int n) {
        float[] f = new float[n * 3];
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            f[3 * i] = i;
            f[3 * i + 1] = -i;
            f[3 * i + 2] = i * 0.5f;
            l[i] = i % 4;
        }
        return new InMemoryDataset(f, l, Shape.of(3), 4);
    }

    @Test void givesTheSameBatchesAsTheLoaderInTheSameOrder() {
        DataLoader loader = DataLoader.builder(data(103), 10).shuffle(true).seed(7).build();
        Iterator<Batch> plain = loader.epoch(2).iterator();
        int batches = 0;
        try (Prefetcher p = new Prefetcher(loader, 2, 2)) {
            while (p.hasNext()) {
                Batch got = p.next(), want = plain.next();
                assertEquals(want.size(), got.size());
                assertEquals(want.featureShape(), got.featureShape());
                assertArrayEquals(want.labels(), Arrays.copyOf(got.labels(), got.size()));
                assertArrayEquals(want.features(), Arrays.copyOf(got.features(), got.size() * 3));
                batches++;
            }
        }
        assertFalse(plain.hasNext());
        assertEquals(11, batches);
    }

    @Test void aFailingDatasetSurfacesOnTheTrainingThread() {
        InMemoryDataset ok = data(20);
        Dataset broken = new Dataset() {
            public int size() { return 20; }
            public Shape exampleShape() { return ok.exampleShape(); }
            public int numClasses() { return 4; }
            public void features(int index, float[] dst, int offset) {
                if (index == 13) throw new IllegalStateException("disk on fire at 13");
                ok.features(index, dst, offset);
            }
            public int label(int index) { return ok.label(index); }
        };
        DataLoader loader = DataLoader.builder(broken, 4).shuffle(false).build();
        try (Prefetcher p = new Prefetcher(loader, 0, 1)) {
            var e = assertThrows(IllegalStateException.class, () -> { while (p.hasNext()) p.next(); });
            assertTrue(e.getMessage().contains("disk on fire at 13"), e.getMessage());
        }
    }
}
