package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.optim.Adam;
import dev.kiln.core.Shape;
import org.junit.jupiter.api.Test;

/** A dataset with more classes than the model has outputs is a mismatch, said with both numbers. */
class EvaluateClassesTest {
    /** {@code n} examples of Blobs' width labelled 0..classes-1 in turn. */
    static InMemoryDataset labelled(int n, int classes) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = i % classes;
        return new InMemoryDataset(new float[n * Blobs.FEATURES], y, Shape.of(Blobs.FEATURES), classes);
    }

    @Test void moreClassesThanOutputsIsRefusedNamingBoth() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
                Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new Adam(1e-3)).batchSize(4).build()) {
            // Labels up to 5 against 4 logits per row: unchecked, top-k read the next row's (or past the array).
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.evaluate(labelled(6, 6)));
            assertTrue(e.getMessage().contains("has 6 classes but the model outputs 4 values per example"), e.getMessage());
        }
    }

    @Test void fewerClassesThanOutputsIsFine() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
                Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new Adam(1e-3)).batchSize(4).topK(2).build()) {
            Evaluation e = t.evaluate(labelled(6, 3));
            assertEquals(6, e.samples());
            assertEquals(Blobs.CLASSES, e.confusion().classes(), "the matrix covers every output");
        }
    }
}
