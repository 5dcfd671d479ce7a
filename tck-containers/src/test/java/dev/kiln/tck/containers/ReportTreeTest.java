package dev.kiln.tck.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** A container's report becomes host tests with the same names and groups and the same outcomes. */
class ReportTreeTest {
    private static final KitReport REPORT = new KitReport(List.of(
            new KitReport.Entry(KitReport.Status.PASSED, List.of("Kit", "forward f32", "tanh", "forward f32: tanh [1]"), ""),
            new KitReport.Entry(KitReport.Status.FAILED, List.of("Kit", "forward f32", "tanh", "forward f32: tanh [7]"), "got 2, expected 1"),
            new KitReport.Entry(KitReport.Status.SKIPPED, List.of("Kit", "forward f64"), "acme does not support f64")));

    @Test void groupsAndOutcomesMirrorTheContainers() throws Throwable {
        List<DynamicNode> top = ReportTree.of("acme", REPORT);
        DynamicContainer kit = (DynamicContainer) top.getFirst();
        assertEquals("Kit", kit.getDisplayName());
        List<? extends DynamicNode> sections = kit.getChildren().toList();
        DynamicContainer forward = (DynamicContainer) sections.getFirst();
        DynamicContainer tanh = (DynamicContainer) forward.getChildren().toList().getFirst();
        List<DynamicTest> tests = tanh.getChildren().map(DynamicTest.class::cast).toList();
        assertEquals(List.of("forward f32: tanh [1]", "forward f32: tanh [7]"), tests.stream().map(DynamicNode::getDisplayName).toList());
        tests.getFirst().getExecutable().execute();
        AssertionFailedError failed = assertThrows(AssertionFailedError.class, () -> tests.get(1).getExecutable().execute());
        assertEquals("in the container: got 2, expected 1", failed.getMessage());
        assertTrue(tests.get(1).getTestSourceUri().orElseThrow().toString().startsWith("kiln-kit:acme"), "a source of its own: named by its display name");
        DynamicTest skipped = (DynamicTest) sections.get(1);
        assertEquals("forward f64", skipped.getDisplayName());
        assertThrows(TestAbortedException.class, () -> skipped.getExecutable().execute());
    }
}
