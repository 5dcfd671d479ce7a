package dev.kiln.api.nn;

/** The mean of each window, padding counted, as PyTorch's {@code AvgPool2d} with its defaults. */
public final class AvgPool2d extends Pool2d {
    public AvgPool2d(int kernel) { this(kernel, kernel, 0); }

    public AvgPool2d(int kernel, int stride, int padding) { super(kernel, stride, padding); }
}
