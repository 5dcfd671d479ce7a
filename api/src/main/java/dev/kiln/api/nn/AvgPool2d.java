package dev.kiln.api.nn;

import dev.kiln.api.Tensor;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Window2d;

/**
 * The mean of each window, as PyTorch's {@code AvgPool2d}: by default the padding counts in the
 * divisor ({@code count_include_pad=True}) and the output size rounds down. With ceil mode the
 * last window may reach past the padded input; as in PyTorch, that reach never counts.
 */
public final class AvgPool2d extends Pool2d {
    private final boolean countIncludePad;

    public AvgPool2d(int kernel) { this(kernel, kernel, 0); }

    public AvgPool2d(int kernel, int stride, int padding) { this(kernel, stride, padding, false, true); }

    /** PyTorch's {@code ceil_mode} and {@code count_include_pad}. */
    public AvgPool2d(int kernel, int stride, int padding, boolean ceilMode, boolean countIncludePad) {
        super(kernel, stride, padding, ceilMode);
        this.countIncludePad = countIncludePad;
    }

    /**
     * The plain case is the composite (divisor k^2). Otherwise the sum over each window is divided
     * by a count: the same pooling over a mask of ones where elements count and zeros where they do
     * not, both over the input padded explicitly with zeros.
     */
    @Override Tensor pool(Tensor x, int extraH, int extraW) {
        if (countIncludePad && extraH == 0 && extraW == 0) return Tensor.apply1(new Composite.AvgPool2d(window), x);
        int p = window.padH(), h = x.shape().dim(2), w = x.shape().dim(3);
        Window2d bare = new Window2d(window.kernelH(), window.kernelW(), window.strideH(), window.strideW(), 0, 0, 1, 1);
        Tensor padded = extend(x, p, p + extraH, p, p + extraW, 0);
        Tensor ones = x.scalarLike(1).broadcastTo(1, 1, countIncludePad ? h + 2 * p : h, countIncludePad ? w + 2 * p : w);
        int edge = countIncludePad ? 0 : p;
        Tensor mask = extend(ones, edge, edge + extraH, edge, edge + extraW, 0);
        Tensor sums = Tensor.apply1(new Composite.AvgPool2d(bare), padded);
        return sums.div(Tensor.apply1(new Composite.AvgPool2d(bare), mask));
    }

    @Override public LayerConfig config() {
        return LayerConfig.of("AvgPool2d", "kernel", window.kernelH(), "stride", window.strideH(), "padding", window.padH(), "ceil_mode", ceilMode,
                "count_include_pad", countIncludePad);
    }

    @Override String options() { return countIncludePad ? "" : ", padding not counted"; }
}
