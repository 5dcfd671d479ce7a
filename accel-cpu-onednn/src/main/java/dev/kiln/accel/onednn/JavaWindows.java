package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Window2d;
import java.lang.foreign.MemorySegment;

/**
 * Window ops in Java: the max-pooling argmax for every floating type (oneDNN's pooling workspace
 * is opaque, so it cannot give flat indices), and the three convolutions for the types oneDNN's
 * convolution does not take (f64, and bf16/f16 without hardware support), accumulated in double.
 */
final class JavaWindows {
    private JavaWindows() {}

    /** Which of the three convolution ops a kernel computes. */
    enum ConvOp { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHTS }

    /** Flat index of the first largest element of each window, one (n, c) plane at a time. */
    static Kernel maxPoolIndices(Window2d win, TensorType x) {
        Shape s = x.shape();
        int planes = s.dim(0) * s.dim(1), h = s.dim(2), w = s.dim(3);
        int oh = win.outH(h), ow = win.outW(w);
        DType t = x.dtype();
        return (in, out) -> {
            double[] plane = new double[h * w];
            int[] idx = new int[oh * ow];
            for (int p = 0; p < planes; p++) {
                Elements.load(in[0], t, (long) p * h * w, 1, plane, h * w);
                int base = p * h * w, o = 0;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double best = 0;
                        int at = -1;
                        for (int ki = 0; ki < win.kernelH(); ki++) {
                            int r = i * win.strideH() - win.padH() + ki * win.dilationH();
                            if (r < 0 || r >= h) continue;
                            for (int kj = 0; kj < win.kernelW(); kj++) {
                                int c = j * win.strideW() - win.padW() + kj * win.dilationW();
                                if (c < 0 || c >= w) continue;
                                double v = plane[r * w + c];
                                if (at < 0 || v > best) {
                                    best = v;
                                    at = r * w + c;
                                }
                            }
                        }
                        idx[o++] = base + at;
                    }
                }
                MemorySegment.copy(idx, 0, out[0], Elements.I32, (long) p * oh * ow * 4, idx.length);
            }
        };
    }

    /**
     * One convolution op on types oneDNN lacks. Operands are read whole into double arrays: this
     * path serves f64 tests and narrow types on CPUs without them, never the f32 hot path.
     */
    static Kernel conv(ConvOp op, Window2d win, int groups, TensorType x, TensorType weight, TensorType a, TensorType b, TensorType out) {
        Shape xs = x.shape(), ws = weight.shape();
        return (in, res) -> {
            double[] u = read(in[0], a), v = read(in[1], b);
            double[] r = new double[Math.toIntExact(out.shape().size())];
            int n = xs.dim(0), c = xs.dim(1), h = xs.dim(2), w = xs.dim(3);
            int o = ws.dim(0), cg = ws.dim(1), kh = ws.dim(2), kw = ws.dim(3);
            int og = o / groups, oh = win.outH(h), ow = win.outW(w);
            for (int bt = 0; bt < n; bt++) {
                for (int oc = 0; oc < o; oc++) {
                    int g = oc / og;
                    for (int i = 0; i < oh; i++) {
                        for (int j = 0; j < ow; j++) {
                            int yi = ((bt * o + oc) * oh + i) * ow + j;
                            for (int ic = 0; ic < cg; ic++) {
                                int xc = bt * c + g * cg + ic;
                                for (int ki = 0; ki < kh; ki++) {
                                    int rr = i * win.strideH() - win.padH() + ki * win.dilationH();
                                    if (rr < 0 || rr >= h) continue;
                                    for (int kj = 0; kj < kw; kj++) {
                                        int cc = j * win.strideW() - win.padW() + kj * win.dilationW();
                                        if (cc < 0 || cc >= w) continue;
                                        int xi = (xc * h + rr) * w + cc, wi = ((oc * cg + ic) * kh + ki) * kw + kj;
                                        switch (op) {
                                            case FORWARD -> r[yi] += u[xi] * v[wi];
                                            case BACKWARD_DATA -> r[xi] += u[yi] * v[wi];
                                            case BACKWARD_WEIGHTS -> r[wi] += u[xi] * v[yi];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Elements.store(res[0], out.dtype(), 0, r, r.length);
        };
    }

    private static double[] read(MemorySegment s, TensorType t) {
        double[] d = new double[Math.toIntExact(t.shape().size())];
        Elements.load(s, t.dtype(), 0, 1, d, d.length);
        return d;
    }
}
