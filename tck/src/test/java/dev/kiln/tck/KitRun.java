package dev.kiln.tck;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs a conformance class through the JUnit Platform launcher, records each failed test by its
 * path of display names and every test that ran, and keeps what the run printed.
 */
final class KitRun implements TestExecutionListener {
    private TestPlan plan;
    private final Map<String, String> failures = new LinkedHashMap<>();
    private final Map<String, String> skipped = new LinkedHashMap<>();
    private final List<TestIdentifier> tests = new ArrayList<>();
    private int succeeded, aborted;
    private String printed = "";

    private static final Map<Class<?>, KitRun> RUNS = new ConcurrentHashMap<>();

    /** The run of {@code testClass}, once per JVM: several tests read the same run. */
    static KitRun of(Class<?> testClass) { return RUNS.computeIfAbsent(testClass, KitRun::execute); }

    private static KitRun execute(Class<?> testClass) {
        KitRun run = new KitRun();
        PrintStream out = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass)).build(), run);
        } finally {
            System.setOut(out);
        }
        run.printed = buffer.toString(StandardCharsets.UTF_8);
        return run;
    }

    @Override public void testPlanExecutionStarted(TestPlan testPlan) { plan = testPlan; }

    @Override public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest()) tests.add(id);
        switch (result.getStatus()) {
            // A failing container (e.g. @BeforeAll) fails everything under it: record it too.
            case FAILED -> failures.put(path(id), message(result));
            case ABORTED -> {
                aborted++;
                skipped.put(path(id), message(result));
            }
            case SUCCESSFUL -> { if (id.isTest()) succeeded++; }
        }
    }

    /** Failed tests, "forward f32 > tanh > forward f32: tanh [3,13]" to message. */
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

    /** Skipped tests and containers by path, with the reason. */
    Map<String, String> skipped() { return skipped; }

    /** Every test that ran, whatever its result. */
    List<TestIdentifier> tests() { return tests; }

    /** What the run wrote to System.out. */
    String printed() { return printed; }

    private String path(TestIdentifier id) {
        List<String> names = new ArrayList<>();
        for (Optional<TestIdentifier> t = Optional.of(id); t.isPresent(); t = plan.getParent(t.get())) {
            // Skip the engine and the class: paths start at the test method or factory.
            if (t.get().getSource().isPresent() && t.get().getSource().get() instanceof ClassSource) break;
            names.addFirst(t.get().getDisplayName());
        }
        return String.join(" > ", names);
    }

    private static String message(TestExecutionResult r) {
        return r.getThrowable().map(t -> t.getClass().getSimpleName() + ": " + t.getMessage()).orElse("");
    }
}
