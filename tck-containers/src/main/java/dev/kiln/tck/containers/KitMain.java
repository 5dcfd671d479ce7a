package dev.kiln.tck.containers;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The kit's entry point inside a container: {@code KitMain REPORT CLASS...} runs the test classes
 * with the JUnit Platform and writes a {@link KitReport} to {@code REPORT}; failures and the
 * counts go to standard output, which the runner shows on the host. Exits 0 when the tests ran,
 * whatever their results (the report carries those), and 2 when they could not be run.
 */
public final class KitMain implements TestExecutionListener {
    private final List<KitReport.Entry> entries = new ArrayList<>();
    private TestPlan plan;

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: KitMain REPORT TEST-CLASS...");
            System.exit(2);
        }
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        for (int i = 1; i < args.length; i++) {
            try {
                request.selectors(selectClass(Class.forName(args[i])));
            } catch (ClassNotFoundException e) {
                System.err.println("kit class " + args[i] + " is not on the image's class path");
                System.exit(2);
            }
        }
        KitReport report = run(request.build());
        try (Writer w = Files.newBufferedWriter(Path.of(args[0]))) {
            report.write(w);
        }
        System.out.printf("kit: %d passed, %d failed, %d skipped%n",
                report.count(KitReport.Status.PASSED), report.count(KitReport.Status.FAILED), report.count(KitReport.Status.SKIPPED));
    }

    static KitReport run(LauncherDiscoveryRequest request) {
        KitMain listener = new KitMain();
        LauncherFactory.create().execute(request, listener);
        return new KitReport(listener.entries);
    }

    @Override public void testPlanExecutionStarted(TestPlan testPlan) { plan = testPlan; }

    @Override public void executionSkipped(TestIdentifier id, String reason) {
        entries.add(new KitReport.Entry(KitReport.Status.SKIPPED, path(id), reason));
    }

    @Override public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        String message = result.getThrowable().map(t -> t.getClass().getSimpleName() + ": " + t.getMessage()).orElse("");
        KitReport.Status status = switch (result.getStatus()) {
            case SUCCESSFUL -> KitReport.Status.PASSED;
            case ABORTED -> KitReport.Status.SKIPPED;
            case FAILED -> KitReport.Status.FAILED;
        };
        // A class or group that failed or was skipped as a whole (an unavailable provider) is reported too; passing ones are only their tests.
        if (!id.isTest() && status == KitReport.Status.PASSED) return;
        if (id.getParentIdObject().isEmpty()) return; // the engine
        if (status == KitReport.Status.FAILED) System.out.println("FAILED " + String.join(" > ", path(id)) + ": " + message);
        entries.add(new KitReport.Entry(status, path(id), message));
    }

    /** Display names from the test class down, e.g. [OneDnnConformanceTest, forward f32, tanh, forward f32: tanh [3,13]]. */
    private List<String> path(TestIdentifier id) {
        List<String> names = new ArrayList<>();
        for (Optional<TestIdentifier> t = Optional.of(id); t.isPresent() && t.get().getParentIdObject().isPresent(); t = plan.getParent(t.get())) {
            names.addFirst(t.get().getDisplayName());
        }
        return names;
    }
}
