package dev.kiln.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.History;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class TrainingCurvesTest {
    @TempDir Path dir;

    static EpochLogs epoch(int e, double loss, double acc, double valLoss, double valAcc) {
        return new EpochLogs(e, 4, loss, acc, 1.5, 1000, valLoss, valAcc);
    }

    static History withValidation() {
        return new History(List.of(epoch(1, 1.2, 0.55, 1.3, 0.5), epoch(2, 0.8, 0.7, 0.9, 0.66),
                epoch(3, 0.6, 0.78, 0.7, 0.74), epoch(4, 0.5, 0.81, 0.65, 0.77)));
    }

    static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    static List<Element> series(Document d) {
        List<Element> out = new ArrayList<>();
        NodeList gs = d.getElementsByTagNameNS("*", "g");
        for (int i = 0; i < gs.getLength(); i++) {
            Element g = (Element) gs.item(i);
            if ("series".equals(g.getAttribute("class"))) out.add(g);
        }
        return out;
    }

    @Test void withoutAccuracyTheRightChartShowsTheFirstMetric() throws Exception {
        List<EpochLogs> logs = new ArrayList<>();
        for (int e = 1; e <= 3; e++) {
            logs.add(new EpochLogs(e, 3, 10.0 / e, Double.NaN, 1, 100, 12.0 / e, Double.NaN,
                    java.util.Map.of("rmse", Math.sqrt(10.0 / e), "val_rmse", Math.sqrt(12.0 / e))));
        }
        History h = new History(logs);
        Document d = parse(TrainingCurves.svg(h, "auto-mpg"));
        assertEquals(List.of("training loss", "validation loss", "training rmse", "validation rmse"),
                series(d).stream().map(g -> g.getAttribute("data-name")).toList());
        String html = TrainingCurves.html(h, "auto-mpg");
        assertTrue(html.contains("<th>rmse</th>") && html.contains("<th>val_rmse</th>"), html);
    }

    @Test void theSvgIsWellFormedWithOneLinePerSeriesAndAPointPerEpoch() throws Exception {
        Document d = parse(TrainingCurves.svg(withValidation(), "blobs"));
        Element root = d.getDocumentElement();
        assertEquals("svg", root.getLocalName());
        assertEquals("http://www.w3.org/2000/svg", root.getNamespaceURI(), "a standalone SVG needs its namespace to open in a browser");
        assertEquals("1200", root.getAttribute("width"));
        List<Element> s = series(d);
        assertEquals(List.of("training loss", "validation loss", "training accuracy", "validation accuracy"),
                s.stream().map(g -> g.getAttribute("data-name")).toList());
        for (Element g : s) {
            assertEquals(1, g.getElementsByTagNameNS("*", "polyline").getLength());
            String points = ((Element) g.getElementsByTagNameNS("*", "polyline").item(0)).getAttribute("points");
            assertEquals(4, points.trim().split(" ").length, points);
            assertEquals(4, g.getElementsByTagNameNS("*", "circle").getLength());
        }
    }

    @Test void aLowerLossIsDrawnHigherUpNoMoreAndAccuracyTheOtherWayRound() throws Exception {
        List<Element> s = series(parse(TrainingCurves.svg(withValidation(), "t")));
        double[] lossY = ys(s.get(0)), accY = ys(s.get(2));
        for (int i = 1; i < 4; i++) {
            assertTrue(lossY[i] > lossY[i - 1], "loss falls, so its y (which grows downwards) grows");
            assertTrue(accY[i] < accY[i - 1], "accuracy rises");
        }
    }

    static double[] ys(Element series) {
        NodeList c = series.getElementsByTagNameNS("*", "circle");
        double[] y = new double[c.getLength()];
        for (int i = 0; i < y.length; i++) y[i] = Double.parseDouble(((Element) c.item(i)).getAttribute("cy"));
        return y;
    }

    @Test void withoutValidationOnlyTheTrainingSeriesAreDrawn() throws Exception {
        History h = new History(List.of(epoch(1, 1, 0.5, Double.NaN, Double.NaN), epoch(2, 0.9, 0.6, Double.NaN, Double.NaN)));
        List<Element> s = series(parse(TrainingCurves.svg(h, "t")));
        assertEquals(List.of("training loss", "training accuracy"), s.stream().map(g -> g.getAttribute("data-name")).toList());
    }

    @Test void aDivergedLossBreaksTheLineInsteadOfLeavingTheChart() throws Exception {
        History h = new History(List.of(epoch(1, 1, 0.5, Double.NaN, Double.NaN), epoch(2, 0.9, 0.6, Double.NaN, Double.NaN),
                epoch(3, Double.POSITIVE_INFINITY, 0.1, Double.NaN, Double.NaN), epoch(4, Double.NaN, 0.1, Double.NaN, Double.NaN),
                epoch(5, 2, 0.1, Double.NaN, Double.NaN), epoch(6, 3, 0.1, Double.NaN, Double.NaN)));
        String svg = TrainingCurves.svg(h, "t");
        assertFalse(svg.contains("NaN") || svg.contains("Infinity"), svg);
        Element loss = series(parse(svg)).get(0);
        assertEquals(2, loss.getElementsByTagNameNS("*", "polyline").getLength(), "epochs 1-2 and 5-6");
        assertEquals(4, loss.getElementsByTagNameNS("*", "circle").getLength());
    }

    @Test void oneEpochAndAConstantValueStillDraw() throws Exception {
        History h = new History(List.of(epoch(1, 0.5, 1.0, 0.5, 1.0)));
        String svg = TrainingCurves.svg(h, "t");
        assertFalse(svg.contains("NaN") || svg.contains("Infinity"), svg);
        assertEquals(4, series(parse(svg)).size());
        assertThrows(IllegalArgumentException.class, () -> TrainingCurves.svg(new History(List.of()), "t"));
    }

    @Test void theTitleIsEscaped() throws Exception {
        String title = "a <b> & \"c\"";
        Document d = parse(TrainingCurves.svg(withValidation(), title));
        assertEquals(title, d.getElementsByTagNameNS("*", "title").item(0).getTextContent());
        assertTrue(TrainingCurves.html(withValidation(), title).contains("<h1>a &lt;b&gt; &amp; &quot;c&quot;</h1>"));
    }

    @Test void theHtmlPageIsSelfContainedWithATableRowPerEpoch() {
        String html = TrainingCurves.html(withValidation(), "blobs");
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<svg width=\"1200\""), "the picture is inlined");
        assertFalse(html.contains("http://") || html.contains("https://") || html.contains("<script") || html.contains("src="), "self-contained");
        for (int e = 1; e <= 4; e++) assertTrue(html.contains("<tr><td>" + e + "</td>"), "row for epoch " + e);
        assertTrue(html.contains("<td>0.6500</td>"), "validation loss of epoch 4");
    }

    @Test void ticksAreRoundNumbersCoveringTheData() {
        var y = TrainingCurves.Axis.of(0.237, 0.981, 6, false);
        assertEquals(0.2, y.lo(), 1e-12);
        assertEquals(1.0, y.hi(), 1e-12);
        assertEquals(List.of("0.2", "0.4", "0.6", "0.8", "1.0"), y.ticks().stream().map(y::label).toList());
        var x = TrainingCurves.Axis.of(1, 30, 10, true);
        assertEquals(List.of("5", "10", "15", "20", "25", "30"), x.ticks().stream().map(x::label).toList());
        var one = TrainingCurves.Axis.of(3, 3, 10, true);
        assertEquals(List.of("3"), one.ticks().stream().map(one::label).toList());
    }

    @Test void writeCreatesBothFilesAndLeavesNoTemporaries() throws Exception {
        Path svg = dir.resolve("sub/curves.svg"), html = dir.resolve("sub/curves.html");
        TrainingCurves.write(withValidation(), "blobs", svg, html);
        TrainingCurves.write(withValidation(), "again", svg, html);
        assertTrue(Files.readString(svg).contains(">again</text>"), "the second write replaced the first");
        try (Stream<Path> files = Files.list(dir.resolve("sub"))) {
            assertEquals(List.of("curves.html", "curves.svg"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(svg),
                    "as readable as any file the process writes, not owner-only like a temporary file");
        }
    }
}
