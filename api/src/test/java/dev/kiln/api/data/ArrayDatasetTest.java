package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Float targets of any shape, and integer targets per position, through the loader and the prefetcher. */
class ArrayDatasetTest {
    /** Example i is {i, 10 i}, its target {i / 2, -i, 1}. */
    static ArrayDataset rows(int n) {
        float[][] x = new float[n][], y = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = new float[] {i, 10 * i};
            y[i] = new float[] {i / 2f, -i, 1};
        }
        return ArrayDataset.of(x, y);
    }

    @Test void ofRowsDescribesFloatTargets() {
        ArrayDataset d = rows(5);
        assertEquals(5, d.size());
        assertEquals(Shape.of(2), d.exampleShape());
        assertEquals(Shape.of(3), d.targetShape());
        assertEquals(DType.F32, d.targetType());
        assertEquals(0, d.numClasses(), "not class labels");
        float[] t = new float[4];
        d.target(3, t, 1);
        assertArrayEquals(new float[] {0, 1.5f, -3, 1}, t);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> d.label(0));
        assertTrue(e.getMessage().contains("F32 targets of shape [3]"), e.getMessage());
    }

    @Test void raggedRowsAndMismatchedSizesAreRefusedNamingThem() {
        var ragged = assertThrows(IllegalArgumentException.class, () -> ArrayDataset.of(new float[][] {{1, 2}, {3}}, new float[][] {{1}, {2}}));
        assertEquals("x[1] has 1 values but x[0] has 2", ragged.getMessage());
        var rows = assertThrows(IllegalArgumentException.class, () -> ArrayDataset.of(new float[][] {{1}}, new float[][] {{1}, {2}}));
        assertEquals("x has 1 rows but y has 2", rows.getMessage());
        var flat = assertThrows(IllegalArgumentException.class, () -> new ArrayDataset(new float[5], Shape.of(2), new float[3], Shape.of(1)));
        assertTrue(flat.getMessage().contains("features has 5 floats but the 3 targets of shape [1] need 3 examples of shape [2], 6 floats"), flat.getMessage());
        var partial = assertThrows(IllegalArgumentException.class, () -> new ArrayDataset(new float[4], Shape.of(2), new float[3], Shape.of(2)));
        assertTrue(partial.getMessage().contains("not a whole number of targets of shape [2]"), partial.getMessage());
    }

    @Test void loaderBatchesFloatTargetsWithTheirShape() {
        DataLoader l = DataLoader.builder(rows(5), 2).shuffle(false).reuseBuffers(true).build();
        List<float[]> targets = new ArrayList<>();
        List<Shape> shapes = new ArrayList<>();
        for (Batch b : l) {
            assertNull(b.labels());
            assertEquals(DType.F32, b.targetType());
            assertEquals(3, b.targetSize());
            targets.add(java.util.Arrays.copyOf(b.targets(), b.size() * 3));
            shapes.add(b.targetShape());
        }
        assertEquals(List.of(Shape.of(2, 3), Shape.of(2, 3), Shape.of(1, 3)), shapes);
        assertArrayEquals(new float[] {2, -4, 1}, targets.get(2), "the last, short batch: example 4");
        assertArrayEquals(new float[] {1, -2, 1, 1.5f, -3, 1}, targets.get(1));
    }

    @Test void prefetcherCarriesFloatTargetsToo() {
        ArrayDataset d = rows(7);
        DataLoader l = DataLoader.builder(d, 3).seed(5).build();
        int[] order = l.order(0);
        try (Prefetcher p = new Prefetcher(l, 0, 2)) {
            int pos = 0;
            while (p.hasNext()) {
                Batch b = p.next();
                for (int i = 0; i < b.size(); i++, pos++) {
                    assertEquals(-order[pos], b.targets()[i * 3 + 1], "target of example " + order[pos]);
                    assertEquals(10 * order[pos], b.features()[i * 2 + 1]);
                }
                assertEquals(Shape.of(b.size(), 3), b.targetShape());
            }
            assertEquals(7, pos);
        }
    }

    /** A label per position: example i is the sequence {i, i+1, i+2} mod 5. */
    static class Sequences implements Dataset {
        private final int size;
        Sequences(int size) { this.size = size; }
        @Override public int size() { return size; }
        @Override public Shape exampleShape() { return Shape.of(3, 2); }
        @Override public int numClasses() { return 5; }
        @Override public void features(int index, float[] dst, int offset) { for (int j = 0; j < 6; j++) dst[offset + j] = index; }
        @Override public Shape targetShape() { return Shape.of(3); }
        @Override public void target(int index, int[] dst, int offset) { for (int j = 0; j < 3; j++) dst[offset + j] = (index + j) % 5; }
    }

    @Test void integerTargetsPerPositionAreBatchedAsLabels() {
        Batch b = DataLoader.builder(new Sequences(4), 4).shuffle(false).build().iterator().next();
        assertEquals(DType.I32, b.targetType());
        assertEquals(Shape.of(4, 3), b.targetShape());
        assertArrayEquals(new int[] {0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 0}, b.labels());
        assertNull(b.targets());
    }

    @Test void classificationBatchesAreAsBefore() {
        InMemoryDataset d = new InMemoryDataset(new float[] {1, 2, 3}, new int[] {2, 0, 1}, Shape.of(1), 3);
        Batch b = DataLoader.builder(d, 3).shuffle(false).build().iterator().next();
        assertArrayEquals(new int[] {2, 0, 1}, b.labels());
        assertNull(b.targets());
        assertEquals(Shape.of(3), b.targetShape());
        assertEquals(1, b.targetSize());
    }

    @Test void unsupportedTargetTypesFailBeforeTheFirstBatch() {
        Dataset f64 = new Sequences(2) {
            @Override public DType targetType() { return DType.F64; }
            @Override public String toString() { return "the f64 set"; }
        };
        var e = assertThrows(IllegalArgumentException.class, () -> DataLoader.of(f64, 2).iterator().next());
        assertTrue(e.getMessage().startsWith("the f64 set: targets of type F64 are not supported"), e.getMessage());
    }
}
