package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RngStateTest {
    @Test void theCounterStreamIsSplittableRandomsSequence() {
        for (long seed : new long[] {0, 42, -7, Long.MAX_VALUE}) {
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < 1000; i++) assertEquals(r.nextLong(), SeedStream.at(seed, i), "seed " + seed + " draw " + i);
        }
    }

    @Test void restoringTheStateRepeatsTheDraws() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").seed(5).build())) {
            for (int i = 0; i < 17; i++) kiln.nextSeed();
            RngState saved = kiln.rngState();
            assertEquals(new RngState(5, 17), saved);
            long a = kiln.nextSeed(), b = kiln.nextSeed();
            kiln.restoreRngState(saved);
            assertEquals(a, kiln.nextSeed());
            assertEquals(b, kiln.nextSeed());
        }
        assertThrows(IllegalArgumentException.class, () -> new RngState(1, -1));
    }
}
