package dev.kiln.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotCallbackTest {
    @TempDir Path dir;

    @Test void redrawsAfterEveryEpochAndStartsAfreshWithEachFit() throws Exception {
        PlotCallback pc = new PlotCallback(dir.resolve("curves"), "blobs");
        assertEquals(dir.resolve("curves.svg"), pc.svg());
        assertEquals(dir.resolve("curves.html"), pc.html());

        pc.onTrainBegin(null, 2);
        pc.onEpochEnd(TrainingCurvesTest.epoch(1, 1.0, 0.5, 1.1, 0.4));
        assertTrue(Files.readString(pc.svg()).startsWith("<?xml"));
        assertTrue(Files.readString(pc.html()).contains("<tr><td>1</td>"));
        assertFalse(Files.readString(pc.html()).contains("<tr><td>2</td>"));
        pc.onEpochEnd(TrainingCurvesTest.epoch(2, 0.8, 0.6, 0.9, 0.55));
        assertTrue(Files.readString(pc.html()).contains("<tr><td>2</td>"), "the page is redrawn after each epoch");

        pc.onTrainBegin(null, 1);
        pc.onEpochEnd(TrainingCurvesTest.epoch(3, 0.7, 0.7, 0.8, 0.6));
        String html = Files.readString(pc.html());
        assertTrue(html.contains("<tr><td>3</td>") && !html.contains("<tr><td>1</td>"), "a new fit starts a new picture");
    }
}
