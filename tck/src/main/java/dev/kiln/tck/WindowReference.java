package dev.kiln.tck;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Window2d;

/**
 * The reference's convolution and pooling: plain loops over every (output position, kernel tap)
 * pair. The three convolution ops visit the same pairs and differ only in what they accumulate,
 * which is what makes them each other's adjoints.
 */
final class WindowReference {
    private WindowReference() {}

    /** One tap: flat indices into x, the weight and y that meet at one output position and kernel offset. */
    @FunctionalInterface
    private interface Tap {
        void at(int xi, int wi, int yi);
    }

    static double[] conv(Window2d win, int groups, Shape xs, Shape ws, double[] x, double[] w) {
        Shape ys = outShape(win, xs, ws);
        double[] y = new double[Math.toIntExact(ys.size())];
        visit(win, groups, xs, ws, (xi, wi, yi) -> y[yi] += x[xi] * w[wi]);
        return y;
    }

    static double[] convBackwardData(Window2d win, int groups, Shape xs, Shape ws, double[] dy, double[] w) {
        double[] dx = new double[Math.toIntExact(xs.size())];
        visit(win, groups, xs, ws, (xi, wi, yi) -> dx[xi] += dy[yi] * w[wi]);
        return dx;
    }

    static double[] convBackwardWeights(Window2d win, int groups, Shape xs, Shape ws, double[] x, double[] dy) {
        double[] dw = new double[Math.toIntExact(ws.size())];
        visit(win, groups, xs, ws, (xi, wi, yi) -> dw[wi] += x[xi] * dy[yi]);
        return dw;
    }

    /** Flat index of the first largest element of each window; padding never wins. */
    static double[] maxPoolIndices(Window2d win, Shape xs, double[] x) {
        int n = xs.dim(0), c = xs.dim(1), h = xs.dim(2), w = xs.dim(3);
        int oh = win.outH(h), ow = win.outW(w);
        double[] idx = new double[n * c * oh * ow];
        int o = 0;
        for (int p = 0; p < n * c; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double best = Double.NEGATIVE_INFINITY;
                    int at = -1;
                    for (int ki = 0; ki < win.kernelH(); ki++) {
                        int r = i * win.strideH() - win.padH() + ki * win.dilationH();
                        if (r < 0 || r >= h) continue;
                        for (int kj = 0; kj < win.kernelW(); kj++) {
                            int s = j * win.strideW() - win.padW() + kj * win.dilationW();
                            if (s < 0 || s >= w) continue;
                            int flat = (p * h + r) * w + s;
                            if (at < 0 || x[flat] > best) {
                                best = x[flat];
                                at = flat;
                            }
                        }
                    }
                    idx[o++] = at;
                }
            }
        }
        return idx;
    }

    private static Shape outShape(Window2d win, Shape xs, Shape ws) {
        return Shape.of(xs.dim(0), ws.dim(0), win.outH(xs.dim(2)), win.outW(xs.dim(3)));
    }

    private static void visit(Window2d win, int groups, Shape xs, Shape ws, Tap tap) {
        int n = xs.dim(0), c = xs.dim(1), h = xs.dim(2), w = xs.dim(3);
        int o = ws.dim(0), cg = ws.dim(1), kh = ws.dim(2), kw = ws.dim(3);
        int og = o / groups, oh = win.outH(h), ow = win.outW(w);
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                int g = oc / og;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        int yi = ((b * o + oc) * oh + i) * ow + j;
                        for (int ic = 0; ic < cg; ic++) {
                            int xc = b * c + g * cg + ic;
                            for (int ki = 0; ki < kh; ki++) {
                                int r = i * win.strideH() - win.padH() + ki * win.dilationH();
                                if (r < 0 || r >= h) continue;
                                for (int kj = 0; kj < kw; kj++) {
                                    int s = j * win.strideW() - win.padW() + kj * win.dilationW();
                                    if (s < 0 || s >= w) continue;
                                    tap.at((xc * h + r) * w + s, ((oc * cg + ic) * kh + ki) * kw + kj, yi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
