package dev.kiln.spi.ir;

/**
 * The sliding window of a 2-D convolution or pooling over the last two axes of an NCHW tensor:
 * kernel size, stride, symmetric zero padding and dilation, per axis, as PyTorch spells them.
 * Output size is PyTorch's (floor mode): {@code (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1}.
 */
public record Window2d(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW) {
    public Window2d {
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("bad window: kernel " + kernelH + "x" + kernelW + ", stride " + strideH + "x" + strideW
                    + ", padding " + padH + "x" + padW + ", dilation " + dilationH + "x" + dilationW);
        }
    }

    /** A square window with equal stride and padding on both axes and no dilation. */
    public static Window2d square(int kernel, int stride, int padding) { return new Window2d(kernel, kernel, stride, stride, padding, padding, 1, 1); }

    /** Output height for input height {@code h}, or a value below 1 when the window does not fit. */
    public int outH(int h) { return (h + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1; }

    public int outW(int w) { return (w + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1; }

    /** The same geometry with another kernel size (a convolution takes its kernel from the weight). */
    public Window2d withKernel(int kh, int kw) { return new Window2d(kh, kw, strideH, strideW, padH, padW, dilationH, dilationW); }

    @Override public String toString() {
        return "k" + kernelH + "x" + kernelW + " s" + strideH + "x" + strideW + " p" + padH + "x" + padW + " d" + dilationH + "x" + dilationW;
    }
}
