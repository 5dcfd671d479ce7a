package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.Shape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Transforms on a dataset: their arithmetic, shapes, reproducible per-epoch randomness, and a loader's batches. */
class TransformsTest {
    /** Two 2-channel 2x3 images whose values are their flat positions, labels 0 and 1. */
    private static InMemoryDataset images() {
        float[] x = new float[24];
        for (int i = 0; i < x.length; i++) x[i] = i;
        return new InMemoryDataset(x, new int[] {0, 1}, Shape.of(2, 2, 3), 2);
    }

    private static float[] read(Dataset d, int i) {
        float[] out = new float[d.exampleSize()];
        d.features(i, out, 0);
        return out;
    }

    @Test void normalizeIsPerChannel() {
        Dataset d = images().transform(Transforms.normalize(new double[] {1, 10}, new double[] {2, 4}), 0);
        assertArrayEquals(new float[] {-0.5f, 0, 0.5f, 1, 1.5f, 2, -1, -0.75f, -0.5f, -0.25f, 0, 0.25f}, read(d, 0));
        assertEquals(1, d.label(1));
    }

    @Test void aCertainFlipMirrorsEveryRowAndCropsMoveTheWindow() {
        Dataset flipped = images().transform(Transforms.randomHorizontalFlip(1), 0);
        assertArrayEquals(new float[] {2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9}, read(flipped, 0));
        Dataset cropped = images().transform(Transforms.randomCrop(2, 2, 0), 3);
        assertEquals(Shape.of(2, 2, 2), cropped.exampleShape());
        float[] c = read(cropped, 0);
        // A 2x2 window of channel 0 at column 0 or 1, and the same window of channel 1 (6 more).
        assertTrue(Arrays.equals(c, new float[] {0, 1, 3, 4, 6, 7, 9, 10}) || Arrays.equals(c, new float[] {1, 2, 4, 5, 7, 8, 10, 11}), Arrays.toString(c));
    }

    @Test void augmentationDiffersBetweenEpochsAndRepeatsForASeed() {
        Transform t = Transforms.compose(Transforms.randomCrop(2, 3, 1), Transforms.randomHorizontalFlip(0.5));
        Dataset a = images().transform(t, 42), b = images().transform(t, 42);
        float[][] epochs = new float[8][];
        for (int e = 0; e < epochs.length; e++) {
            epochs[e] = read(a, 1);
            assertArrayEquals(epochs[e], read(b, 1), "the same seed gives the same augmentation at read " + e);
        }
        assertFalse(Arrays.stream(epochs).allMatch(x -> Arrays.equals(x, epochs[0])), "epochs see different crops and flips");
    }

    @Test void aLoaderPacksTransformedExamplesOfTheNewShape() {
        Dataset d = images().transform(Transforms.randomCrop(1, 1, 0), 7);
        Batch batch = DataLoader.builder(d, 2).shuffle(false).build().iterator().next();
        assertEquals(Shape.of(2, 2, 1, 1), batch.featureShape());
    }

    @Test void shapesThatDoNotFitAreRefusedNamingThem() {
        var e = assertThrows(IllegalArgumentException.class, () -> images().transform(Transforms.normalize(new double[] {0, 0, 0}, new double[] {1, 1, 1}), 0));
        assertTrue(e.getMessage().contains("3 channels") && e.getMessage().contains("[2, 2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> images().transform(Transforms.randomCrop(5, 5, 1), 0));
    }
}
