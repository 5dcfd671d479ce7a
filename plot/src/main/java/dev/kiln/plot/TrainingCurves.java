package dev.kiln.plot;

import dev.kiln.api.checkpoint.AtomicFiles;
import dev.kiln.api.train.EpochLogs;
import dev.kiln.api.train.History;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Training curves of a {@link History}: loss and accuracy per epoch, training and validation, side
 * by side, as an SVG image, and the same picture with the numbers as a table in a self-contained
 * HTML page (the SVG is inlined, so the file can be mailed or archived alone). Where accuracy is
 * not measured (regression, multi-label) the right-hand chart shows the first of the trainer's
 * metrics instead, e.g. {@code rmse} and {@code val_rmse}, and the table lists every metric.
 *
 * <p>Written as text with no chart library and no {@code java.desktop}: the pictures need no
 * display, no fonts installed on the machine and nothing beyond {@code java.base}, and any browser
 * shows them.
 */
public final class TrainingCurves {
    static final int WIDTH = 1200, HEIGHT = 480, TITLE = 40;
    static final String TRAIN = "#1f77b4", VALIDATION = "#ff7f0e";
    private static final String FONT = "font-family=\"sans-serif\"";

    private TrainingCurves() {}

    /** The two charts as one standalone SVG document. */
    public static String svg(History history, String title) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svgElement(history, title, true);
    }

    /** A self-contained HTML page: the title, the charts and a table of every epoch's numbers. */
    public static String html(History history, String title) {
        String t = escape(title);
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(t).append("</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}svg{max-width:100%;height:auto}</style></head><body>\n")
                .append("<h1>").append(t).append("</h1>\n")
                // HTML5 knows the svg element, so the inline copy needs no namespace (and names no URL).
                .append(svgElement(history, title, false))
                .append("<table><tr><th>epoch</th><th>loss</th><th>accuracy</th>")
                .append("<th>val_loss</th><th>val_accuracy</th><th>seconds</th>");
        List<String> metrics = List.copyOf(history.last().metrics().keySet());
        for (String m : metrics) sb.append("<th>").append(escape(m)).append("</th>");
        sb.append("</tr>\n");
        for (EpochLogs l : history.epochs()) {
            sb.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.1f</td>", l.epoch(),
                    cell(l.loss()), cell(l.accuracy()), cell(l.validationLoss()), cell(l.validationAccuracy()), l.seconds()));
            for (String m : metrics) sb.append("<td>").append(cell(l.metrics().getOrDefault(m, Double.NaN))).append("</td>");
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n</body></html>\n").toString();
    }

    /** Writes {@code svg} and {@code html}, either may be null; each replaces the old file in one step. */
    public static void write(History history, String title, Path svg, Path html) {
        try {
            if (svg != null) replace(svg, svg(history, title));
            if (html != null) replace(html, html(history, title));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the training curves: " + e.getMessage(), e);
        }
    }

    // A browser reloading the page mid-write, or a run killed mid-write, must never see half a file.
    private static void replace(Path target, String content) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(target, ch -> { while (bytes.hasRemaining()) ch.write(bytes); });
    }

    private static String svgElement(History h, String title, boolean standalone) {
        if (h.epochs().isEmpty()) throw new IllegalArgumentException("cannot plot a history without epochs");
        StringBuilder sb = new StringBuilder();
        sb.append("<svg").append(standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : "")
                .append(" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(HEIGHT).append("\" role=\"img\">\n")
                .append("<title>").append(escape(title)).append("</title>\n")
                .append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n")
                .append("<text x=\"").append(WIDTH / 2).append("\" y=\"27\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\" fill=\"#404040\" ")
                .append(FONT).append('>').append(escape(title)).append("</text>\n");
        panel(sb, h, "loss", EpochLogs::loss, EpochLogs::validationLoss, 0);
        String metric = rightMetric(h);
        if (metric == null) panel(sb, h, "accuracy", EpochLogs::accuracy, EpochLogs::validationAccuracy, WIDTH / 2);
        else panel(sb, h, metric, l -> l.metrics().getOrDefault(metric, Double.NaN), l -> l.metrics().getOrDefault("val_" + metric, Double.NaN), WIDTH / 2);
        return sb.append("</svg>\n").toString();
    }

    // Plot area inside each half of the picture: room on the left for tick labels, below for the axis name.
    private static final int LEFT = 70, RIGHT = 20, TOP = 30, BOTTOM = 80;

    /** The metric the right-hand chart shows when no epoch measured accuracy: the first training one logged, else null (accuracy). */
    private static String rightMetric(History h) {
        if (h.epochs().stream().anyMatch(l -> !Double.isNaN(l.accuracy()))) return null;
        return h.last().metrics().keySet().stream().filter(k -> !k.startsWith("val_")).findFirst().orElse(null);
    }

    private static void panel(StringBuilder sb, History h, String name, ToDoubleFunction<EpochLogs> train, ToDoubleFunction<EpochLogs> val, int x0) {
        List<EpochLogs> epochs = h.epochs();
        boolean hasValidation = epochs.stream().anyMatch(EpochLogs::hasValidation);

        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (EpochLogs l : epochs) {
            for (double v : new double[] {train.applyAsDouble(l), val.applyAsDouble(l)}) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) { // nothing finite to draw (every loss diverged): still draw the axes
            lo = 0;
            hi = 1;
        }
        Axis y = Axis.of(lo, hi, 6, false);
        Axis x = Axis.of(epochs.getFirst().epoch(), epochs.getLast().epoch(), 10, true);

        int px = x0 + LEFT, py = TITLE + TOP, pw = WIDTH / 2 - LEFT - RIGHT, ph = HEIGHT - TITLE - TOP - BOTTOM;
        sb.append("<g>\n<text x=\"").append(px + pw / 2).append("\" y=\"").append(TITLE + 18)
                .append("\" text-anchor=\"middle\" font-size=\"15\" fill=\"#404040\" ").append(FONT).append('>').append(escape(name)).append("</text>\n");
        for (double t : y.ticks()) {
            String ty = num(py + ph - (t - y.lo) / (y.hi - y.lo) * ph);
            sb.append("<line x1=\"").append(px).append("\" x2=\"").append(px + pw).append("\" y1=\"").append(ty).append("\" y2=\"").append(ty)
                    .append("\" stroke=\"#dddddd\"/>\n")
                    .append("<text x=\"").append(px - 6).append("\" y=\"").append(ty).append("\" dy=\"4\" text-anchor=\"end\" font-size=\"12\" fill=\"#404040\" ")
                    .append(FONT).append('>').append(y.label(t)).append("</text>\n");
        }
        for (double t : x.ticks()) {
            String tx = num(px + (t - x.lo) / (x.hi - x.lo) * pw);
            sb.append("<line x1=\"").append(tx).append("\" x2=\"").append(tx).append("\" y1=\"").append(py).append("\" y2=\"").append(py + ph)
                    .append("\" stroke=\"#dddddd\"/>\n")
                    .append("<text x=\"").append(tx).append("\" y=\"").append(py + ph + 18).append("\" text-anchor=\"middle\" font-size=\"12\" fill=\"#404040\" ")
                    .append(FONT).append('>').append(x.label(t)).append("</text>\n");
        }
        sb.append("<rect x=\"").append(px).append("\" y=\"").append(py).append("\" width=\"").append(pw).append("\" height=\"").append(ph)
                .append("\" fill=\"none\" stroke=\"#808080\"/>\n")
                .append("<text x=\"").append(px + pw / 2).append("\" y=\"").append(py + ph + 40).append("\" text-anchor=\"middle\" font-size=\"13\" fill=\"#404040\" ")
                .append(FONT).append(">epoch</text>\n");

        series(sb, epochs, train, x, y, px, py, pw, ph, TRAIN, "training " + name);
        if (hasValidation) series(sb, epochs, val, x, y, px, py, pw, ph, VALIDATION, "validation " + name);

        int ly = py + ph + 62;
        legend(sb, px, ly, TRAIN, "training " + name);
        if (hasValidation) legend(sb, px + pw / 2, ly, VALIDATION, "validation " + name);
        sb.append("</g>\n");
    }

    private static void series(StringBuilder sb, List<EpochLogs> epochs, ToDoubleFunction<EpochLogs> f, Axis x, Axis y,
                               int px, int py, int pw, int ph, String colour, String name) {
        // A non-finite value (a diverged loss) breaks the line instead of dragging it off the chart.
        List<List<String>> runs = new ArrayList<>();
        List<String> run = new ArrayList<>();
        StringBuilder dots = new StringBuilder();
        for (EpochLogs l : epochs) {
            double v = f.applyAsDouble(l);
            if (!Double.isFinite(v)) {
                if (!run.isEmpty()) runs.add(run);
                run = new ArrayList<>();
                continue;
            }
            String cx = num(px + (l.epoch() - x.lo) / (x.hi - x.lo) * pw), cy = num(py + ph - (v - y.lo) / (y.hi - y.lo) * ph);
            run.add(cx + "," + cy);
            dots.append("<circle cx=\"").append(cx).append("\" cy=\"").append(cy).append("\" r=\"3.5\" fill=\"").append(colour).append("\"/>\n");
        }
        if (!run.isEmpty()) runs.add(run);
        sb.append("<g class=\"series\" data-name=\"").append(escape(name)).append("\">\n");
        for (List<String> r : runs) {
            if (r.size() > 1) {
                sb.append("<polyline fill=\"none\" stroke=\"").append(colour).append("\" stroke-width=\"2\" points=\"")
                        .append(String.join(" ", r)).append("\"/>\n");
            }
        }
        sb.append(dots).append("</g>\n");
    }

    private static void legend(StringBuilder sb, int x, int y, String colour, String name) {
        sb.append("<line x1=\"").append(x).append("\" x2=\"").append(x + 24).append("\" y1=\"").append(y).append("\" y2=\"").append(y)
                .append("\" stroke=\"").append(colour).append("\" stroke-width=\"2\"/>\n")
                .append("<text x=\"").append(x + 30).append("\" y=\"").append(y).append("\" dy=\"4\" font-size=\"12\" fill=\"#404040\" ")
                .append(FONT).append('>').append(escape(name)).append("</text>\n");
    }

    /**
     * An axis from {@code lo} to {@code hi} with ticks at 1, 2 or 5 times a power of ten, so the
     * labels are short round numbers.
     */
    record Axis(double lo, double hi, double step, boolean integers) {
        static Axis of(double min, double max, int maxTicks, boolean integers) {
            if (integers) {
                if (min == max) return new Axis(min - 0.5, max + 0.5, 1, true);
                double step = Math.max(1, niceStep((max - min) / maxTicks));
                // Epochs start where the data starts, not at a round number; a little room on each
                // side keeps the first and last markers inside the frame.
                double pad = (max - min) * 0.03;
                return new Axis(min - pad, max + pad, step, true);
            }
            if (min == max) {
                double pad = Math.max(Math.abs(min) * 0.05, 1e-3);
                min -= pad;
                max += pad;
            }
            double step = niceStep((max - min) / maxTicks);
            return new Axis(Math.floor(min / step) * step, Math.ceil(max / step) * step, step, false);
        }

        static double niceStep(double raw) {
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double n = raw / mag;
            return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
        }

        List<Double> ticks() {
            List<Double> t = new ArrayList<>();
            double first = Math.ceil(lo / step - 1e-9) * step;
            for (int i = 0; ; i++) {
                double v = first + i * step;
                if (v > hi + step * 1e-9) break;
                t.add(v);
            }
            return t;
        }

        String label(double v) {
            if (integers) return Long.toString(Math.round(v));
            int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }
    }

    private static String num(double v) { return String.format(Locale.ROOT, "%.1f", v); }

    private static String cell(double v) { return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", v); }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
