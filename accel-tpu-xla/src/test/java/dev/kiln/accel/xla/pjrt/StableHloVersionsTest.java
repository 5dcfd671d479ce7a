package dev.kiln.accel.xla.pjrt;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class StableHloVersionsTest {
    @Test void aRangeAroundWhatKilnWritesIsAccepted() {
        assertDoesNotThrow(() -> StableHloVersions.check(Map.of(
                "stablehlo_minimum_version", new long[] {0, 9, 0}, "stablehlo_current_version", new long[] {1, 8, 3})));
        assertDoesNotThrow(() -> StableHloVersions.check(Map.of(
                "stablehlo_minimum_version", new long[] {1}, "stablehlo_current_version", new long[] {1, 0, 0})));
        assertDoesNotThrow(() -> StableHloVersions.check(Map.of("xla_version", 2L)), "a plugin that does not say is trusted");
    }

    @Test void aPluginThatNoLongerReadsOrDoesNotYetReadItIsRefusedNamingBoth() {
        var tooNew = assertThrows(IllegalStateException.class, () -> StableHloVersions.check(Map.of(
                "stablehlo_minimum_version", new long[] {1, 2, 0}, "stablehlo_current_version", new long[] {1, 9, 0})));
        assertTrue(tooNew.getMessage().contains("1.2.0 and newer; Kiln writes 1.0.0"), tooNew.getMessage());
        var tooOld = assertThrows(IllegalStateException.class, () -> StableHloVersions.check(Map.of(
                "stablehlo_current_version", new long[] {0, 19, 1})));
        assertTrue(tooOld.getMessage().contains("up to 0.19.1"), tooOld.getMessage());
    }
}
