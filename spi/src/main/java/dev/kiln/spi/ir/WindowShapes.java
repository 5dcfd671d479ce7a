package dev.kiln.spi.ir;

import dev.kiln.core.Shape;
import java.util.List;

/**
 * Shape inference shared by the convolution and pooling ops, kept out of {@link Primitive} so each
 * record there stays a few lines. Every failure is the op's own error, naming it and its inputs.
 */
final class WindowShapes {
    private WindowShapes() {}

    /**
     * The output of convolving {@code x[n, c, h, w]} with {@code weight[o, c / groups, kh, kw]}:
     * {@code [n, o, outH, outW]}. {@code window}'s kernel size must be the weight's.
     */
    static Shape conv(Op op, Window2d window, int groups, Shape x, Shape weight, List<TensorType> in) {
        if (x.rank() != 4 || weight.rank() != 4) throw op.error("needs x[n, c, h, w] and weight[o, c/groups, kh, kw], got " + x + " and " + weight, in);
        if (groups < 1 || x.dim(1) % groups != 0 || weight.dim(0) % groups != 0) {
            throw op.error("groups " + groups + " must divide input channels " + x.dim(1) + " and output channels " + weight.dim(0), in);
        }
        if (weight.dim(1) * groups != x.dim(1)) {
            throw op.error("input has " + x.dim(1) + " channels, weight " + weight + " with groups " + groups + " expects " + weight.dim(1) * groups, in);
        }
        if (weight.dim(2) != window.kernelH() || weight.dim(3) != window.kernelW()) {
            throw op.error("weight " + weight + " does not match window " + window, in);
        }
        return Shape.of(x.dim(0), weight.dim(0), spatial(op, window, x, in)[0], spatial(op, window, x, in)[1]);
    }

    /** The output of pooling {@code x[n, c, h, w]}: {@code [n, c, outH, outW]}; padding at most half the kernel, as PyTorch requires. */
    static Shape pool(Op op, Window2d window, Shape x, List<TensorType> in) {
        if (x.rank() != 4) throw op.error("needs x[n, c, h, w], got " + x, in);
        if (2 * window.padH() > window.kernelH() || 2 * window.padW() > window.kernelW()) {
            throw op.error("padding must be at most half the kernel, got " + window, in);
        }
        int[] hw = spatial(op, window, x, in);
        return Shape.of(x.dim(0), x.dim(1), hw[0], hw[1]);
    }

    private static int[] spatial(Op op, Window2d window, Shape x, List<TensorType> in) {
        int oh = window.outH(x.dim(2)), ow = window.outW(x.dim(3));
        if (oh < 1 || ow < 1) throw op.error("window " + window + " does not fit input " + x, in);
        return new int[] {oh, ow};
    }

    /** Both operands floating and of one dtype. */
    static void sameFloating(Op op, List<TensorType> in) {
        for (TensorType t : in) {
            if (!t.dtype().isFloating() || t.dtype() != in.getFirst().dtype()) throw op.error("needs floating operands of one dtype", in);
        }
    }
}
