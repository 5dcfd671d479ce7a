package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.core.PrecisionPolicy;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PrecisionTest {
    @Test void autoPicksBf16MixedOnlyWhereThePluginReportsIt() {
        assertEquals(PrecisionPolicy.BF16_MIXED, Precision.auto().resolve("x", Set.of(PrecisionPolicy.FP32, PrecisionPolicy.BF16_MIXED)));
        assertEquals(PrecisionPolicy.FP32, Precision.auto().resolve("x", Set.of(PrecisionPolicy.FP32)));
    }

    @Test void autoFollowsThePluginsOwnRankingAndAFixedPolicyIgnoresIt() {
        Set<PrecisionPolicy> both = Set.of(PrecisionPolicy.FP32, PrecisionPolicy.BF16_MIXED);
        var fp32First = java.util.List.of(PrecisionPolicy.FP32, PrecisionPolicy.BF16_MIXED);
        assertEquals(PrecisionPolicy.FP32, Precision.auto().resolve("x", both, fp32First), "bf16 instructions that do not pay");
        assertEquals(PrecisionPolicy.BF16_MIXED, Precision.auto().resolve("x", both, java.util.List.of()), "no ranking: the runtime's order");
        assertEquals(PrecisionPolicy.BF16_MIXED, Precision.auto().resolve("x", both, java.util.List.of(PrecisionPolicy.TF32)), "a ranking of nothing supported counts for nothing");
        assertEquals(PrecisionPolicy.BF16_MIXED, Precision.bf16Mixed().resolve("x", both, fp32First));
    }

    @Test void anUnsupportedFixedPolicyIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Precision.bf16Mixed().resolve("javaref", Set.of(PrecisionPolicy.FP32)));
        assertTrue(e.getMessage().contains("javaref") && e.getMessage().contains("bf16-mixed") && e.getMessage().contains("fp32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Kiln.open(KilnConfig.builder().backend("javaref").precision(Precision.bf16Mixed()).build()));
    }

    @Test void parseKnowsAutoAndThePolicyLabels() {
        assertEquals(Precision.auto(), Precision.parse("auto"));
        assertEquals(Precision.of(PrecisionPolicy.FP16_MIXED), Precision.parse("fp16-mixed"));
    }
}
