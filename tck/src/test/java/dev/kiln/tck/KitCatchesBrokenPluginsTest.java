package dev.kiln.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.spi.AcceleratorProvider;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Proof the kit can fail: it runs against plugins with one planted bug each and must report
 * failures that name the broken op, and only ops that use it.
 */
class KitCatchesBrokenPluginsTest {

    @Test
    void tanhComputingSinIsReportedAsTanh() {
        KitRun run = KitRun.of(BrokenTanh.class);
        Map<String, String> forward = run.failuresIn("forward f32");
        assertFalse(forward.isEmpty(), "a plugin whose tanh computes sin passed the forward suite");
        assertTrue(forward.keySet().stream().anyMatch(k -> k.contains("tanh > tanh [3,13]")), forward.keySet().toString());
        // Linear(tanh) decomposes onto the broken kernel, so it may fail too; nothing else may.
        forward.forEach((name, message) -> {
            assertTrue(name.contains("tanh"), "unrelated failure " + name + ": " + message);
            assertTrue(message.contains("tanh"), "failure message does not name the op: " + message);
        });
        assertFalse(run.failuresIn("forward f64").isEmpty(), "f64 cases must catch it too");
        // The backward pass of tanh reuses the forward result, so the gradient section must notice as well.
        assertTrue(run.failuresIn("gradients f32").keySet().stream().anyMatch(k -> k.contains("tanh > tanh [7]")), run.failuresIn("gradients f32").keySet().toString());
    }

    @Test
    void matmulDroppingItsLastColumnIsReportedAsMatmul() {
        KitRun run = KitRun.of(BrokenMatmul.class);
        Map<String, String> forward = run.failuresIn("forward f32");
        assertTrue(forward.keySet().stream().anyMatch(k -> k.contains("matmul > matmul transB [7,13]x[5,13]")), forward.keySet().toString());
        // Linear layers and attention are built on matmul, so they fail with it.
        forward.forEach((name, message) ->
                assertTrue(name.contains("matmul") || name.contains("linear") || name.contains("attention"), "unrelated failure " + name + ": " + message));
        assertTrue(run.failures().keySet().stream().anyMatch(k -> k.startsWith("a multi-node graph")), "the MLP graph uses matmul");
    }

    @Test
    void theFaultlessToyPassesEveryForwardCase() {
        KitRun run = KitRun.of(Faultless.class);
        assertEquals(Map.of(), run.failuresIn("forward f32"));
        assertEquals(Map.of(), run.failuresIn("forward f64"));
        assertTrue(run.succeeded() > 500, "only " + run.succeeded() + " tests ran");
    }

    @Test
    void aPluginWithoutSomeDtypesSkipsThoseCasesInsteadOfFailing() {
        KitRun run = KitRun.of(Narrow.class);
        assertEquals(Map.of(), run.failuresIn("forward f32"));
        assertEquals(Map.of(), run.failuresIn("forward f64"));
        assertTrue(run.aborted() > 0, "casts to f64, bf16, f16 and i8 must be skipped");
    }

    // Static nested classes: surefire does not pick them up, only the launcher above runs them.

    static class BrokenTanh extends AcceleratorConformanceTest {
        @Override protected AcceleratorProvider provider() { return new ToyProvider(ToyAccelerator.Variant.TANH_IS_SIN); }
    }

    static class BrokenMatmul extends AcceleratorConformanceTest {
        @Override protected AcceleratorProvider provider() { return new ToyProvider(ToyAccelerator.Variant.MATMUL_DROPS_LAST_COLUMN); }
    }

    static class Narrow extends AcceleratorConformanceTest {
        @Override protected AcceleratorProvider provider() { return new ToyProvider(ToyAccelerator.Variant.NARROW_DTYPES); }
    }

    static class Faultless extends AcceleratorConformanceTest {
        @Override protected AcceleratorProvider provider() { return new ToyProvider(ToyAccelerator.Variant.FAITHFUL); }
    }
}
