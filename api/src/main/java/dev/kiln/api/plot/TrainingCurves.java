package dev.kiln.api.plot;

import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.History;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Training curves of a {@link History}: loss and accuracy per epoch, training and validation, side
 * by side, drawn with JFreeChart into a PNG, and the same picture with the numbers as a table in a
 * self-contained HTML page (the image is inlined, so the file can be mailed or archived alone).
 * Renders off-screen only, so it works on headless machines.
 */
public final class TrainingCurves {
    static final int WIDTH = 1200, HEIGHT = 480, TITLE = 36;
    private static final Color TRAIN = new Color(0x1f77b4), VALIDATION = new Color(0xff7f0e);

    private TrainingCurves() {}

    /** The two charts as one image. */
    public static BufferedImage render(History history, String title) {
        if (history.epochs().isEmpty()) throw new IllegalArgumentException("cannot plot a history without epochs");
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            // One title over both charts; each chart keeps a short one, so long titles do not wrap.
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            int w = g.getFontMetrics().stringWidth(title);
            g.drawString(title, Math.max(8, (WIDTH - w) / 2), 26);
            chart(history, "loss", true).draw(g, new Rectangle2D.Double(0, TITLE, WIDTH / 2.0, HEIGHT - TITLE));
            chart(history, "accuracy", false).draw(g, new Rectangle2D.Double(WIDTH / 2.0, TITLE, WIDTH / 2.0, HEIGHT - TITLE));
        } finally {
            g.dispose();
        }
        return img;
    }

    /** Writes {@code png} (and, unless null, {@code html}). */
    public static void write(History history, String title, Path png, Path html) {
        BufferedImage img = render(history, title);
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ImageIO.write(img, "png", bytes);
            if (png != null) write(png, bytes.toByteArray());
            if (html != null) write(html, html(history, title, bytes.toByteArray()).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the training curves: " + e.getMessage(), e);
        }
    }

    private static void write(Path p, byte[] content) throws IOException {
        Path parent = p.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.write(p, content);
    }

    private static JFreeChart chart(History h, String title, boolean loss) {
        XYSeries train = new XYSeries(loss ? "training loss" : "training accuracy");
        XYSeries val = new XYSeries(loss ? "validation loss" : "validation accuracy");
        for (EpochLogs l : h.epochs()) {
            train.add(l.epoch(), loss ? l.loss() : l.accuracy());
            if (l.hasValidation()) val.add(l.epoch(), loss ? l.validationLoss() : l.validationAccuracy());
        }
        XYSeriesCollection data = new XYSeriesCollection(train);
        if (val.getItemCount() > 0) data.addSeries(val);
        JFreeChart c = ChartFactory.createXYLineChart(title, "epoch", loss ? "loss" : "accuracy", data, PlotOrientation.VERTICAL, true, false, false);
        c.setBackgroundPaint(Color.WHITE);
        c.getTitle().setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        XYPlot plot = c.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits()); // epochs are whole numbers
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        r.setSeriesPaint(0, TRAIN);
        r.setSeriesPaint(1, VALIDATION);
        r.setSeriesStroke(0, new BasicStroke(2f));
        r.setSeriesStroke(1, new BasicStroke(2f));
        plot.setRenderer(r);
        return c;
    }

    static String html(History h, String title, byte[] png) {
        StringBuilder sb = new StringBuilder();
        String t = escape(title);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(t).append("</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}img{max-width:100%}</style></head><body>\n")
                .append("<h1>").append(t).append("</h1>\n<img alt=\"loss and accuracy per epoch\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\">\n<table><tr><th>epoch</th><th>loss</th><th>accuracy</th>")
                .append("<th>val_loss</th><th>val_accuracy</th><th>seconds</th></tr>\n");
        for (EpochLogs l : h.epochs()) {
            sb.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.4f</td><td>%.4f</td><td>%s</td><td>%s</td><td>%.1f</td></tr>%n", l.epoch(),
                    l.loss(), l.accuracy(), cell(l.validationLoss()), cell(l.validationAccuracy()), l.seconds()));
        }
        return sb.append("</table>\n</body></html>\n").toString();
    }

    private static String cell(double v) { return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", v); }

    private static String escape(String s) { return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;"); }
}
