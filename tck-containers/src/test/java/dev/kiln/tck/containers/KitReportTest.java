package dev.kiln.tck.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class KitReportTest {
    @Test void aReportSurvivesItsTextFormWithTabsNewlinesAndBackslashes() throws IOException {
        KitReport r = new KitReport(List.of(
                new KitReport.Entry(KitReport.Status.PASSED, List.of("OneDnnConformanceTest", "forward f32", "tanh", "forward f32: tanh [3,13]"), ""),
                new KitReport.Entry(KitReport.Status.FAILED, List.of("K", "a\tb"), "expected 1\n  got 2 \\ at [0]"),
                new KitReport.Entry(KitReport.Status.SKIPPED, List.of("CudaConformanceTest"), "cuda is not available here: no driver")));
        StringWriter w = new StringWriter();
        r.write(w);
        assertEquals(3, w.toString().lines().count(), w.toString());
        assertEquals(r, KitReport.read(new ByteArrayInputStream(w.toString().getBytes(StandardCharsets.UTF_8))));
        assertEquals(1, r.count(KitReport.Status.FAILED));
    }

    @Test void aDamagedLineIsNamed() {
        IOException e = assertThrows(IOException.class, () -> KitReport.read(new ByteArrayInputStream("PASSED\tK\t\nWEIRD\tK\tm\n".getBytes(StandardCharsets.UTF_8))));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("WEIRD"), e.getMessage());
    }
}
