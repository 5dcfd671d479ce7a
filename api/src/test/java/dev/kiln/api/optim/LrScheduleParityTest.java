package dev.kiln.api.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.api.checkpoint.SafeTensorsFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Schedules against PyTorch 1.13's, from {@code resources/parity/lr_schedules.safetensors}
 * ({@code optim_fixtures.py}): {@code <name>.lr} is the rate each update ran with,
 * {@code <name>.closed} the scheduler's closed form at the same step. Kiln evaluates the closed
 * form; PyTorch steps through a recursive one, which drifts from it by a few 1e-15 of the rate.
 */
class LrScheduleParityTest {
    /** Same formula, same operation order: only cos may round differently from C's. */
    private static final double CLOSED = 1e-15;
    /** The recursive form's drift, with room. */
    private static final double STEPPED = 1e-13;

    private final Path path = OptimizerParityTest.resource("lr_schedules.safetensors");
    private final SafeTensorsFile fixture = SafeTensorsFile.read(path);

    @Test void cosineIsCosineAnnealingLR() {
        LrSchedule s = LrSchedule.cosine(1e-2, 10, 1e-3);
        check(s, "cosine.closed", CLOSED);
        check(s, "cosine.lr", STEPPED);
    }

    @Test void linearIsLinearLR() {
        LrSchedule s = LrSchedule.linear(1e-2, 0.1, 1.0, 5);
        check(s, "linear.closed", CLOSED);
        check(s, "linear.lr", STEPPED);
    }

    @Test void linearThenCosineIsSequentialLR() {
        check(LrSchedule.linear(1e-2, 0.1, 1.0, 5).then(5, LrSchedule.cosine(1e-2, 10, 1e-3)), "sequential.lr", STEPPED);
    }

    private void check(LrSchedule s, String name, double relative) {
        double[] want = fixture.tensor(name, path).toDoubles();
        for (int k = 0; k < want.length; k++) assertEquals(want[k], s.at(k), relative * want[k], name + " at step " + k);
    }
}
