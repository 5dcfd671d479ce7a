package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.AcceleratorConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Precision.auto() on oneDNN follows the measured bf16 speed, not the CPU flag alone. */
class PrecisionSpeedTest {
    @Test void bf16IsChosenOnlyWhereItsMatmulIsClearlyFaster() {
        assertEquals(List.of(PrecisionPolicy.FP32), PrecisionSpeed.rank(false, 5.0));
        assertEquals(List.of(PrecisionPolicy.BF16_MIXED, PrecisionPolicy.FP32), PrecisionSpeed.rank(true, 2.0));
        assertEquals(List.of(PrecisionPolicy.FP32, PrecisionPolicy.BF16_MIXED), PrecisionSpeed.rank(true, 1.0), "an Intel Xeon without AMX: the flag, but no gain");
        assertEquals(PrecisionPolicy.BF16_MIXED, PrecisionSpeed.rank(true, PrecisionSpeed.MIN_SPEEDUP).getFirst());
    }

    @Test void theAcceleratorRanksByItsOwnMeasurement() {
        try (OneDnnAccelerator acc = new OneDnnAccelerator(new AcceleratorConfig(0, 0))) {
            List<PrecisionPolicy> ranked = acc.fastestPrecisions();
            assertEquals(acc.capabilities().precisions(), java.util.Set.copyOf(ranked), "every supported policy, and only those");
            if (CpuFeatures.bf16()) {
                double speedup = PrecisionSpeed.measuredSpeedup();
                assertTrue(speedup > 0 && Double.isFinite(speedup), "speedup " + speedup);
                assertEquals(PrecisionSpeed.rank(true, speedup), ranked);
            }
        }
    }
}
