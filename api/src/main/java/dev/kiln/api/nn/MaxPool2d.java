package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.spi.ir.Composite;

/** The maximum of each window, as PyTorch's {@code MaxPool2d} (stride defaults to the kernel size). */
public final class MaxPool2d extends Pool2d {
    public MaxPool2d(int kernel) { this(kernel, kernel, 0); }

    public MaxPool2d(int kernel, int stride, int padding) { this(kernel, stride, padding, false); }

    /** {@code ceilMode}: PyTorch's {@code ceil_mode}, rounding the output size up so the last, partial window counts. */
    public MaxPool2d(int kernel, int stride, int padding, boolean ceilMode) { super(kernel, stride, padding, ceilMode); }

    /** The reach past the input is -inf, as padding is: it never wins a window. */
    @Override Tensor pool(Tensor x, int extraH, int extraW) {
        Tensor in = extraH > 0 || extraW > 0 ? extend(x, 0, extraH, 0, extraW, Double.NEGATIVE_INFINITY) : x;
        return Tensor.apply1(new Composite.MaxPool2d(window), in);
    }
    @Override public LayerConfig config() {
        return LayerConfig.of("MaxPool2d", "kernel", window.kernelH(), "stride", window.strideH(), "padding", window.padH(), "ceil_mode", ceilMode);
    }

}
