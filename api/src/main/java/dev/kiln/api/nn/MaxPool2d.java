package dev.kiln.api.nn;

/** The maximum of each window, as PyTorch's {@code MaxPool2d} (stride defaults to the kernel size). */
public final class MaxPool2d extends Pool2d {
    public MaxPool2d(int kernel) { this(kernel, kernel, 0); }

    public MaxPool2d(int kernel, int stride, int padding) { super(kernel, stride, padding); }
}
