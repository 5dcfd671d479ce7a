package dev.kiln.api.nn;

import dev.kiln.spi.ir.Window2d;

/**
 * What {@link Conv2d#builder} and {@link ConvTranspose2d#builder} share: PyTorch's tuple arguments
 * for the window (kernel, stride, padding, dilation, each as height and width), groups and bias.
 * Unset ones are PyTorch's defaults: stride 1, no padding, no dilation, one group, a bias.
 */
public abstract sealed class ConvOptions<B extends ConvOptions<B>> permits Conv2d.Builder, ConvTranspose2d.Builder {
    final int in, out;
    private int kh = -1, kw = -1, sh = 1, sw = 1, ph, pw, dh = 1, dw = 1;
    int groups = 1;
    boolean bias = true;

    ConvOptions(int in, int out) {
        this.in = in;
        this.out = out;
    }

    @SuppressWarnings("unchecked")
    private B self() { return (B) this; }

    public B kernel(int h, int w) { kh = h; kw = w; return self(); }

    public B stride(int h, int w) { sh = h; sw = w; return self(); }

    public B padding(int h, int w) { ph = h; pw = w; return self(); }

    public B dilation(int h, int w) { dh = h; dw = w; return self(); }

    public B groups(int g) { groups = g; return self(); }

    public B bias(boolean b) { bias = b; return self(); }

    /** The window set so far; the kernel size has no default. */
    Window2d window(String layer) {
        if (kh < 0) throw new IllegalStateException(layer + ".builder(" + in + ", " + out + "): the kernel size is not set");
        return new Window2d(kh, kw, sh, sw, ph, pw, dh, dw);
    }
}
