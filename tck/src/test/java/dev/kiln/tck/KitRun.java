package dev.kiln.tck;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** Runs a conformance class through the JUnit Platform launcher and records each failed test by its path of display names. */
final class KitRun implements TestExecutionListener {
    private TestPlan plan;
    private final Map<String, String> failures = new LinkedHashMap<>();
    private int succeeded, aborted;

    static KitRun of(Class<?> testClass) {
        KitRun run = new KitRun();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass)).build(), run);
        return run;
    }

    @Override public void testPlanExecutionStarted(TestPlan testPlan) { plan = testPlan; }

    @Override public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (!id.isTest()) {
            // A failing container (e.g. @BeforeAll) fails everything under it: record it too.
            if (result.getStatus() == TestExecutionResult.Status.FAILED) failures.put(path(id), message(result));
            if (result.getStatus() == TestExecutionResult.Status.ABORTED) aborted++;
            return;
        }
        if (result.getStatus() == TestExecutionResult.Status.FAILED) failures.put(path(id), message(result));
        else if (result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) succeeded++;
        else aborted++;
    }

    /** Failed tests, "forward f32 > tanh > tanh [3,13]" to message. */
    Map<String, String> failures() { return failures; }

    /** Failures under the top-level container whose display name is {@code section}. */
    Map<String, String> failuresIn(String section) {
        Map<String, String> m = new LinkedHashMap<>();
        failures.forEach((k, v) -> { if (k.startsWith(section + " > ")) m.put(k, v); });
        return m;
    }

    int succeeded() { return succeeded; }

    /** Tests and containers skipped by an assumption (a dtype the plugin lacks). */
    int aborted() { return aborted; }

    private String path(TestIdentifier id) {
        List<String> names = new ArrayList<>();
        for (Optional<TestIdentifier> t = Optional.of(id); t.isPresent(); t = plan.getParent(t.get())) {
            // Skip the engine and the class: paths start at the test method or factory.
            if (t.get().getSource().isPresent() && t.get().getSource().get() instanceof org.junit.platform.engine.support.descriptor.ClassSource) break;
            names.addFirst(t.get().getDisplayName());
        }
        return String.join(" > ", names);
    }

    private static String message(TestExecutionResult r) {
        return r.getThrowable().map(t -> t.getClass().getSimpleName() + ": " + t.getMessage()).orElse("");
    }
}
