package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Window2d;
import java.util.ArrayList;
import java.util.List;

/** What max and average pooling share: the window, the input check and the message. */
abstract sealed class Pool2d extends Module permits MaxPool2d, AvgPool2d {
    final Window2d window;
    final boolean ceilMode;

    Pool2d(int kernel, int stride, int padding, boolean ceilMode) {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " needs kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2, got kernel "
                    + kernel + ", stride " + stride + ", padding " + padding);
        }
        this.window = Window2d.square(kernel, stride, padding);
        this.ceilMode = ceilMode;
    }

    @Override public final Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 4) throw new IllegalArgumentException(describe() + ": expected input of shape [batch, channels, height, width] but got " + s);
        if (window.outH(s.dim(2)) < 1 || window.outW(s.dim(3)) < 1) {
            throw new IllegalArgumentException(describe() + ": input " + s + " is smaller than the window " + window);
        }
        int extraH = ceilMode ? extra(s.dim(2)) : 0, extraW = ceilMode ? extra(s.dim(3)) : 0;
        return pool(x, extraH, extraW);
    }

    /** With {@code extraH}/{@code extraW} more rows/columns of windows' reach at the bottom/right (ceil mode). */
    abstract Tensor pool(Tensor x, int extraH, int extraW);

    /**
     * How far ceil mode's last window reaches past the padded input: PyTorch's output size
     * {@code ceil((n + 2p - k) / s) + 1}, less one if that last window would start in the right
     * padding, so every window still covers some input.
     */
    private int extra(int n) {
        int k = window.kernelH(), st = window.strideH(), p = window.padH();
        int out = Math.floorDiv(n + 2 * p - k + st - 1, st) + 1;
        if ((out - 1) * st >= n + p) out--;
        return (out - 1) * st + k - (n + 2 * p);
    }

    /** {@code x} with {@code rows} rows and {@code cols} columns of {@code value} added at the bottom and right. */
    static Tensor extend(Tensor x, int top, int bottom, int left, int right, double value) {
        Shape s = x.shape();
        int n = s.dim(0), c = s.dim(1);
        Tensor y = x;
        if (top > 0 || bottom > 0) {
            List<Tensor> parts = new ArrayList<>();
            if (top > 0) parts.add(y.scalarLike(value).broadcastTo(n, c, top, s.dim(3)));
            parts.add(y);
            if (bottom > 0) parts.add(y.scalarLike(value).broadcastTo(n, c, bottom, s.dim(3)));
            y = Tensor.concat(2, parts.toArray(Tensor[]::new));
        }
        if (left > 0 || right > 0) {
            int h = y.shape().dim(2);
            List<Tensor> parts = new ArrayList<>();
            if (left > 0) parts.add(y.scalarLike(value).broadcastTo(n, c, h, left));
            parts.add(y);
            if (right > 0) parts.add(y.scalarLike(value).broadcastTo(n, c, h, right));
            y = Tensor.concat(3, parts.toArray(Tensor[]::new));
        }
        return y;
    }

    @Override public String toString() {
        return getClass().getSimpleName() + "(" + window.kernelH() + (window.strideH() != window.kernelH() ? ", stride " + window.strideH() : "")
                + (window.padH() != 0 ? ", padding " + window.padH() : "") + (ceilMode ? ", ceil mode" : "") + options() + ")";
    }

    String options() { return ""; }
}
