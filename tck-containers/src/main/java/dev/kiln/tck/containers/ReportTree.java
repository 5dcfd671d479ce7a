package dev.kiln.tck.containers;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.AssertionFailedError;

/**
 * A container's {@link KitReport} as JUnit tests on the host, under the same names in the same
 * groups: a test that failed in the container fails here with its message, a skipped one is
 * skipped with its reason. Each test has a source URI of its own, so build reports name it by its
 * display name as they do the kit's own tests.
 */
final class ReportTree {
    private final String name;
    private final Map<String, ReportTree> children = new LinkedHashMap<>();
    private KitReport.Entry entry;

    private ReportTree(String name) { this.name = name; }

    static List<DynamicNode> of(String plugin, KitReport report) {
        ReportTree root = new ReportTree(plugin);
        for (KitReport.Entry e : report.entries()) {
            ReportTree t = root;
            for (String segment : e.path()) t = t.children.computeIfAbsent(segment, ReportTree::new);
            t.entry = e;
        }
        return root.nodes(plugin);
    }

    private List<DynamicNode> nodes(String prefix) {
        List<DynamicNode> out = new ArrayList<>();
        for (ReportTree c : children.values()) {
            String path = prefix + "/" + c.name;
            // An entry on a group is the group's own result (a kit class skipped as a whole); it becomes a test beside the group's.
            if (c.entry != null) out.add(test(c.name, path, c.entry));
            if (!c.children.isEmpty()) out.add(DynamicContainer.dynamicContainer(c.name, c.nodes(path)));
        }
        return out;
    }

    /** A test of the runner's own beside the mirrored ones: the image's figures, or why the plugin did not run. */
    static DynamicTest passed(String plugin, String name) {
        return test(name, plugin + "/" + name, new KitReport.Entry(KitReport.Status.PASSED, List.of(name), ""));
    }

    static DynamicTest skipped(String plugin, String name, String reason) {
        return test(name, plugin + "/" + name, new KitReport.Entry(KitReport.Status.SKIPPED, List.of(name), reason));
    }

    private static DynamicTest test(String name, String path, KitReport.Entry e) {
        URI source = URI.create("kiln-kit:" + URLEncoder.encode(path, StandardCharsets.UTF_8));
        return DynamicTest.dynamicTest(name, source, () -> {
            switch (e.status()) {
                case PASSED -> { }
                case SKIPPED -> Assumptions.abort(e.message());
                case FAILED -> throw new AssertionFailedError("in the container: " + e.message());
            }
        });
    }
}
