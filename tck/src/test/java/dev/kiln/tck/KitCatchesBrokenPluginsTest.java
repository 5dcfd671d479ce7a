package dev.kiln.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.spi.AcceleratorProvider;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.engine.support.descriptor.UriSource;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Proof the kit can fail: it runs against plugins with one planted bug each and must report
 * failures that name the broken op, and only ops that use it, and sum them up by root cause.
 */
class KitCatchesBrokenPluginsTest {

    @Test
    void tanhComputingSinIsReportedAsTanh() {
        KitRun run = KitRun.of(BrokenTanh.class);
        Map<String, String> forward = run.failuresIn("forward f32");
        assertFalse(forward.isEmpty(), "a plugin whose tanh computes sin passed the forward suite");
        assertTrue(forward.keySet().stream().anyMatch(k -> k.endsWith("tanh > forward f32: tanh [3,13]")), forward.keySet().toString());
        // Linear(tanh) decomposes onto the broken kernel, so it may fail too; nothing else may.
        forward.forEach((name, message) -> {
            assertTrue(name.contains("tanh"), "unrelated failure " + name + ": " + message);
            assertTrue(message.contains("tanh"), "failure message does not name the op: " + message);
        });
        assertFalse(run.failuresIn("forward f64").isEmpty(), "f64 cases must catch it too");
        // The backward pass of tanh reuses the forward result, so the gradient section must notice as well.
        assertTrue(run.failuresIn("gradients f32").keySet().stream().anyMatch(k -> k.endsWith("tanh > gradients f32: tanh [7]")),
                run.failuresIn("gradients f32").keySet().toString());
    }

    @Test
    void aFailingRunEndsWithItsRootCausesOncePerFamily() {
        KitRun run = KitRun.of(BrokenTanh.class);
        String summary = run.printed().substring(run.printed().indexOf("Kiln conformance kit: toy failed " + run.failures().size() + " tests"));
        String causes = summary.substring(summary.indexOf("root causes"), summary.indexOf("failing through them"));
        assertTrue(causes.contains("\n  tanh (") && causes.contains(": tanh [1]: "), summary);
        assertEquals(1, causes.split("\n  ").length - 1, "tanh alone is a root cause: " + summary);
        String following = summary.substring(summary.indexOf("failing through them"), summary.indexOf("other failing tests"));
        // Linear(tanh) runs the broken kernel; the tanh-form GELU's gradient is written with tanh.
        assertTrue(following.contains("\n  linear (") && following.contains("\n  gelu (") && following.contains("uses tanh"), summary);
    }

    @Test
    void matmulDroppingItsLastColumnIsReportedAsMatmul() {
        KitRun run = KitRun.of(BrokenMatmul.class);
        Map<String, String> forward = run.failuresIn("forward f32");
        assertTrue(forward.keySet().stream().anyMatch(k -> k.endsWith("matmul > forward f32: matmul transB [7,13]x[5,13]")), forward.keySet().toString());
        // Linear layers and attention are built on matmul, so they fail with it.
        forward.forEach((name, message) ->
                assertTrue(name.contains("matmul") || name.contains("linear") || name.contains("attention"), "unrelated failure " + name + ": " + message));
        assertTrue(run.failures().keySet().stream().anyMatch(k -> k.startsWith("a multi-node graph")), "the MLP graph uses matmul");
        assertTrue(run.printed().contains("root causes, the first failure of each:\n  matmul ("), run.printed());
    }

    @Test
    void theFaultlessToyPassesEveryForwardCaseAndPrintsNoSummary() {
        KitRun run = KitRun.of(Faultless.class);
        assertEquals(Map.of(), run.failuresIn("forward f32"));
        assertEquals(Map.of(), run.failuresIn("forward f64"));
        assertTrue(run.succeeded() > 500, "only " + run.succeeded() + " tests ran");
        assertFalse(run.printed().contains("Kiln conformance kit:"), run.printed());
    }

    /** Build tools name a dynamic test by its display name only when it has a source of its own, so each has one and the names are unique. */
    @Test
    void everyTestHasAReadableNameOfItsOwn() {
        KitRun run = KitRun.of(Faultless.class);
        Set<String> names = new HashSet<>();
        for (TestIdentifier t : run.tests()) {
            if (t.getSource().orElseThrow() instanceof MethodSource) continue; // the @Test methods, named by their methods
            assertTrue(t.getSource().get() instanceof UriSource u && u.getUri().getScheme().equals("kiln-tck"), t.toString());
            assertTrue(t.getDisplayName().matches("[a-z0-9 ]+: .+"), t.getDisplayName());
            assertTrue(names.add(t.getDisplayName()), "two tests named " + t.getDisplayName());
        }
        assertTrue(names.size() > 1000, names.size() + " dynamic tests");
    }

    @Test
    void aPluginWithoutSomeDtypesSkipsThoseCasesInsteadOfFailing() {
        KitRun run = KitRun.of(Narrow.class);
        assertEquals(Map.of(), run.failuresIn("forward f32"));
        assertEquals(Map.of(), run.failuresIn("forward f64"));
        assertTrue(run.aborted() > 0, "casts to f64, bf16, f16 and i8 must be skipped");
    }

    /**
     * Sigmoid, tanh-GELU and subtraction reach the toy spelled in other primitives (its kernels
     * for them throw), and pass; the weights' adjoint of convolution has no spelling, so its
     * cases, and the gradients that need it, are skipped saying why.
     */
    @Test
    void unsupportedPrimitivesFallBackOrSkipWithTheReason() {
        KitRun run = KitRun.of(Unsupported.class);
        assertEquals(Map.of(), run.failures());
        assertTrue(run.tests().stream().anyMatch(t -> t.getDisplayName().equals("forward f32: sigmoid [3,13]")), "sigmoid ran");
        assertFalse(run.skipped().keySet().stream().anyMatch(k -> k.contains("sigmoid") || k.contains(": sub ")), run.skipped().toString());
        Map<String, String> conv = new java.util.LinkedHashMap<>();
        run.skipped().forEach((k, v) -> { if (v.contains("declares conv2dbackwardweights unsupported")) conv.put(k, v); });
        assertTrue(conv.keySet().stream().anyMatch(k -> k.startsWith("forward f32 > conv2dbackwardweights > ")), run.skipped().toString());
        assertTrue(conv.keySet().stream().anyMatch(k -> k.startsWith("gradients f32 > conv2d > ")), "conv2d's gradient needs it: " + conv.keySet());
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

    static class Unsupported extends AcceleratorConformanceTest {
        @Override protected AcceleratorProvider provider() { return new ToyProvider(ToyAccelerator.Variant.UNSUPPORTED_SOME); }
    }

    static class Faultless extends AcceleratorConformanceTest {
        @Override protected AcceleratorProvider provider() { return new ToyProvider(ToyAccelerator.Variant.FAITHFUL); }
    }
}
