package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Window2d;

/** What max and average pooling share: the window, the input check and the message. */
abstract sealed class Pool2d extends Module permits MaxPool2d, AvgPool2d {
    final Window2d window;

    Pool2d(int kernel, int stride, int padding) {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " needs kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2, got kernel "
                    + kernel + ", stride " + stride + ", padding " + padding);
        }
        this.window = Window2d.square(kernel, stride, padding);
    }

    @Override public final Tensor forward(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 4) throw new IllegalArgumentException(describe() + ": expected input of shape [batch, channels, height, width] but got " + s);
        if (window.outH(s.dim(2)) < 1 || window.outW(s.dim(3)) < 1) {
            throw new IllegalArgumentException(describe() + ": input " + s + " is smaller than the window " + window);
        }
        return Tensor.apply1(this instanceof MaxPool2d ? new Composite.MaxPool2d(window) : new Composite.AvgPool2d(window), x);
    }

    @Override public String toString() {
        return getClass().getSimpleName() + "(" + window.kernelH() + (window.strideH() != window.kernelH() ? ", stride " + window.strideH() : "")
                + (window.padH() != 0 ? ", padding " + window.padH() : "") + ")";
    }
}
