package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** DataLoader.shard: PyTorch's DistributedSampler semantics. */
class ShardedDataLoaderTest {
    /** Example i has every feature equal to i, so a batch tells which examples it holds. */
    private static InMemoryDataset dataset(int n) {
        float[] f = new float[n];
        int[] l = new int[n];
        for (int i = 0; i < n; i++) f[i] = i;
        return new InMemoryDataset(f, l, Shape.of(1), 1);
    }

    private static DataLoader loader(int n, int batch, int rank, int world, boolean dropLast, boolean shuffle) {
        return DataLoader.builder(dataset(n), batch).seed(11).shuffle(shuffle).dropLast(dropLast).shard(rank, world).build();
    }

    private static List<Integer> visit(DataLoader loader, int epoch) {
        List<Integer> seen = new ArrayList<>();
        int batches = 0;
        for (Batch b : loader.epoch(epoch)) {
            batches++;
            for (int i = 0; i < b.size(); i++) seen.add((int) b.features()[i]);
        }
        assertEquals(loader.batchesPerEpoch(), batches);
        assertEquals(loader.examplesPerEpoch(), seen.size());
        return seen;
    }

    @Test void paddedShardsCoverTheDatasetWithEqualCounts() {
        int n = 103, world = 4; // 103 = 4 * 25 + 3: one example repeated
        Set<Integer> union = new HashSet<>();
        int total = 0;
        for (int r = 0; r < world; r++) {
            DataLoader l = loader(n, 8, r, world, false, true);
            List<Integer> mine = visit(l, 2);
            assertEquals(26, mine.size(), "ceil(103 / 4)");
            assertEquals(4, l.batchesPerEpoch());
            union.addAll(mine);
            total += mine.size();
        }
        assertEquals(n, union.size());
        assertEquals(104, total);
    }

    @Test void paddingRepeatsThePermutationFromTheStart() {
        DataLoader whole = DataLoader.builder(dataset(10), 4).seed(11).build();
        int[] p = whole.order(3);
        // world 4 pads 10 to 12 with p[0], p[1]: rank 2 gets positions 2, 6, 10 -> p[2], p[6], p[0].
        assertArrayEquals(new int[] {p[2], p[6], p[0]}, loader(10, 4, 2, 4, false, true).order(3));
        assertArrayEquals(new int[] {p[3], p[7], p[1]}, loader(10, 4, 3, 4, false, true).order(3));
        // Fewer examples than ranks: the padding wraps more than once.
        assertArrayEquals(new int[] {0}, loader(2, 4, 4, 6, false, false).order(0));
    }

    @Test void dropLastGivesDisjointShardsOfEqualSize() {
        int n = 103, world = 4;
        Set<Integer> union = new HashSet<>();
        for (int r = 0; r < world; r++) {
            DataLoader l = loader(n, 8, r, world, true, true);
            List<Integer> mine = visit(l, 0);
            assertEquals(24, mine.size(), "floor(103 / 4) = 25, then whole batches of 8");
            assertEquals(25, l.order(0).length);
            for (int id : mine) assertTrue(union.add(id), "example " + id + " is on two ranks");
        }
        assertEquals(96, union.size());
    }

    @Test void evenSplitIsDisjointAndCompleteWithoutPadding() {
        Set<Integer> union = new HashSet<>();
        for (int r = 0; r < 5; r++) for (int id : visit(loader(100, 7, r, 5, false, true), 1)) assertTrue(union.add(id));
        assertEquals(100, union.size());
    }

    @Test void rankRTakesPositionsRStrideWorldOfTheEpochsPermutation() {
        DataLoader whole = DataLoader.builder(dataset(50), 4).seed(11).build();
        for (int e = 0; e < 3; e++) {
            int[] p = whole.order(e);
            int[] r1 = loader(50, 4, 1, 3, false, true).order(e);
            for (int i = 0; i < r1.length; i++) assertEquals(p[(1 + 3 * i) % 50], r1[i]);
        }
    }

    @Test void worldOfOneIsTheUnshardedLoader() {
        for (boolean drop : new boolean[] {false, true}) {
            DataLoader plain = DataLoader.builder(dataset(103), 10).seed(11).dropLast(drop).build();
            DataLoader one = loader(103, 10, 0, 1, drop, true);
            for (int e = 0; e < 3; e++) assertArrayEquals(plain.order(e), one.order(e));
            assertEquals(plain.batchesPerEpoch(), one.batchesPerEpoch());
            assertEquals(plain.examplesPerEpoch(), one.examplesPerEpoch());
            assertEquals(visit(plain, 1), visit(one, 1));
        }
    }

    /** Pinned (from the formula of the loader before sharding existed): a change here would silently reorder every run. */
    @Test void singleProcessOrderIsUnchanged() {
        assertEquals("[1, 2, 5, 0, 3, 4]", Arrays.toString(DataLoader.builder(dataset(6), 2).seed(11).build().order(0)));
    }

    @Test void deterministicPerEpochAndDifferentAcrossEpochs() {
        DataLoader a = loader(60, 6, 2, 3, false, true), b = loader(60, 6, 2, 3, false, true);
        assertEquals(visit(a, 0), visit(b, 0));
        assertEquals(visit(a, 4), visit(b, 4));
        assertNotEquals(visit(a, 0), visit(a, 1));
        assertArrayEquals(a.order(1), a.order(1));
    }

    @Test void prefetcherVisitsTheShard() throws Exception {
        DataLoader l = loader(103, 8, 3, 4, false, true);
        List<Integer> seen = new ArrayList<>();
        try (Prefetcher p = new Prefetcher(l, 2, 2)) {
            while (p.hasNext()) {
                Batch b = p.next();
                for (int i = 0; i < b.size(); i++) seen.add((int) b.features()[i]);
            }
        }
        assertEquals(visit(l, 2), seen);
    }

    @Test void badShardsAreRefused() {
        DataLoader.Builder b = DataLoader.builder(dataset(4), 2);
        assertThrows(IllegalArgumentException.class, () -> b.shard(2, 2));
        assertThrows(IllegalArgumentException.class, () -> b.shard(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> b.shard(0, 0));
    }
}
