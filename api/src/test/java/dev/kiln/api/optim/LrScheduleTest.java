package dev.kiln.api.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test void stepDecayHalvesEveryStepSizeUpdates() {
        LrSchedule s = LrSchedule.stepDecay(0.1, 10, 0.5);
        assertEquals(0.1, s.at(0));
        assertEquals(0.1, s.at(9));
        assertEquals(0.05, s.at(10));
        assertEquals(0.025, s.at(25), 1e-15);
    }

    @Test void exponentialAndMultiStep() {
        assertEquals(0.1 * Math.pow(0.9, 7), LrSchedule.exponential(0.1, 0.9).at(7), 1e-15);
        LrSchedule m = LrSchedule.multiStep(1, new long[] {3, 5}, 0.1);
        assertEquals(1, m.at(2));
        assertEquals(0.1, m.at(3), 1e-15);
        assertEquals(0.1, m.at(4), 1e-15);
        assertEquals(0.01, m.at(5), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.multiStep(1, new long[] {5, 3}, 0.1));
    }

    @Test void cosineMatchesTheClosedForm() {
        LrSchedule s = LrSchedule.cosine(1.0, 100, 0.1);
        assertEquals(1.0, s.at(0), 1e-15);
        assertEquals(0.55, s.at(50), 1e-12); // half-way: mean of the ends
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.3)), s.at(30), 1e-12);
        assertEquals(0.1, s.at(100), 1e-15);
        // Past the minimum it climbs back, as PyTorch's: period 200, mirrored about 100.
        assertEquals(s.at(70), s.at(130), 1e-15);
        assertEquals(1.0, s.at(200), 1e-15);
        assertEquals(s.at(30), s.at(1030), 1e-12);
    }

    @Test void cosineHeldAtItsMinimumWithThen() {
        LrSchedule s = LrSchedule.cosine(1.0, 10, 0.1).then(10, step -> 0.1);
        assertEquals(0.1, s.at(10), 1e-15);
        assertEquals(0.1, s.at(15));
    }

    @Test void linearGoesFromStartToEndFactorThenHolds() {
        LrSchedule s = LrSchedule.linear(0.5, 0.1, 1.0, 4);
        assertEquals(0.05, s.at(0), 1e-15);
        assertEquals(0.5 * (0.1 + 0.9 * 2 / 4), s.at(2), 1e-15);
        assertEquals(0.5, s.at(4), 1e-15);
        assertEquals(0.5, s.at(100), 1e-15);
        LrSchedule decay = LrSchedule.linear(1, 1, 0.5, 10); // end below start: a linear decay
        assertEquals(0.75, decay.at(5), 1e-15);
        assertEquals(0.5, decay.at(11), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(1, 0, 1, 5));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(1, 0.1, 1.5, 5));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(1, 0.1, 1, 0));
    }

    @Test void warmupRampsThenHandsOverWithItsOwnClock() {
        LrSchedule s = LrSchedule.linearWarmup(4, LrSchedule.cosine(0.8, 10, 0));
        assertEquals(0.2, s.at(0), 1e-15);
        assertEquals(0.4, s.at(1), 1e-15);
        assertEquals(0.8, s.at(3), 1e-15);
        assertEquals(0.8, s.at(4), 1e-15);               // cosine at its step 0
        assertEquals(0.4, s.at(9), 1e-12);               // cosine at its step 5 of 10
        assertEquals(0.0, s.at(14), 1e-15);
    }

    @Test void thenAndScaledCompose() {
        LrSchedule s = LrSchedule.constant(1).then(3, LrSchedule.constant(0.5)).scaled(0.1);
        assertEquals(0.1, s.at(2), 1e-15);
        assertEquals(0.05, s.at(3), 1e-15);
    }

    @Test void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.stepDecay(0.1, 0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(0.1, 10, 0.2));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(-1));
    }

    @Test void anOptimizerTakesItsRateFromTheSchedule() {
        SGD sgd = new SGD(1);
        sgd.schedule(LrSchedule.stepDecay(0.1, 2, 0.1));
        assertEquals(0.1, sgd.learningRateAt(1), 1e-15);
        assertEquals(0.01, sgd.learningRateAt(2), 1e-15);
        assertEquals(0.01, sgd.learningRate(), 1e-15);
        sgd.schedule(step -> Double.NaN);
        assertThrows(IllegalStateException.class, () -> sgd.learningRateAt(0));
    }
}
