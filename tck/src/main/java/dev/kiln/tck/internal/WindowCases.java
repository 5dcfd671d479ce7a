package dev.kiln.tck.internal;

import static dev.kiln.tck.internal.Names.shape;
import static dev.kiln.tck.internal.PrimitiveCases.t;

import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Window2d;
import java.util.List;

/**
 * Cases for convolution and pooling: every geometry knob (stride, padding, dilation, groups,
 * non-square kernels, 1x1) on small odd-sized images, each convolution op with its gradient.
 */
public final class WindowCases {
    private WindowCases() {}

    private static final Sampler UNIFORM = Sampler.uniform(-2, 2);

    /** x shape, weight shape, window (kernel taken from the weight), groups. */
    private record Conv(int[] x, int[] w, int sh, int sw, int ph, int pw, int dh, int dw, int groups) {
        Window2d window() { return new Window2d(w[2], w[3], sh, sw, ph, pw, dh, dw); }

        String label() { return shape(Shape.of(x)) + "*" + shape(Shape.of(w)) + " " + window() + " g" + groups; }
    }

    private static final List<Conv> CONVS = List.of(
            new Conv(new int[] {2, 3, 7, 7}, new int[] {4, 3, 3, 3}, 1, 1, 1, 1, 1, 1, 1),
            new Conv(new int[] {1, 4, 9, 8}, new int[] {6, 2, 3, 2}, 2, 1, 1, 0, 1, 1, 2),
            new Conv(new int[] {2, 2, 10, 9}, new int[] {3, 2, 3, 3}, 1, 1, 2, 2, 2, 2, 1),
            new Conv(new int[] {1, 4, 5, 5}, new int[] {4, 1, 3, 3}, 2, 2, 1, 1, 1, 1, 4),
            new Conv(new int[] {3, 1, 6, 6}, new int[] {5, 1, 1, 1}, 1, 1, 0, 0, 1, 1, 1),
            new Conv(new int[] {1, 3, 13, 13}, new int[] {2, 3, 5, 5}, 3, 3, 2, 2, 1, 1, 1),
            // The last row is in no window (8 + 2 - 3 is odd): backward-data then is a transposed convolution with output padding 1.
            new Conv(new int[] {2, 2, 8, 7}, new int[] {3, 2, 3, 3}, 2, 2, 1, 1, 1, 1, 1));

    public static void primitives(List<OpCase> c, DType f) {
        for (Conv k : CONVS) {
            TensorType x = t(f, k.x()), w = t(f, k.w());
            Primitive.Conv2d fwd = new Primitive.Conv2d(k.window(), k.groups());
            TensorType y = fwd.infer(List.of(x, w)).getFirst();
            int taps = k.w()[1] * k.w()[2] * k.w()[3];
            int spatial = y.shape().dim(0) * y.shape().dim(2) * y.shape().dim(3);
            c.add(new OpCase("conv2d", "conv2d " + k.label(), fwd, List.of(x, w), List.of(UNIFORM, UNIFORM), List.of(0, 1), taps));
            Primitive.Conv2dBackwardData bd = new Primitive.Conv2dBackwardData(k.window(), k.groups(), x.shape());
            c.add(new OpCase("conv2dbackwarddata", "conv2dbackwarddata " + k.label(), bd, List.of(y, w), List.of(UNIFORM, UNIFORM), List.of(0, 1),
                    k.w()[0] / k.groups() * k.w()[2] * k.w()[3]));
            Primitive.Conv2dBackwardWeights bw = new Primitive.Conv2dBackwardWeights(k.window(), k.groups(), w.shape());
            c.add(new OpCase("conv2dbackwardweights", "conv2dbackwardweights " + k.label(), bw, List.of(x, y), List.of(UNIFORM, UNIFORM), List.of(0, 1), spatial));
        }
        for (Object[] p : POOLS) {
            TensorType x = t(f, (int[]) p[0]);
            Window2d win = (Window2d) p[1];
            c.add(new OpCase("maxpool2dindices", "maxpool2dindices " + shape(x) + " " + win, new Primitive.MaxPool2dIndices(win),
                    List.of(x), List.of(UNIFORM), List.of(), 1));
        }
    }

    private static final Object[][] POOLS = {
        {new int[] {2, 3, 7, 7}, Window2d.square(2, 2, 0)},
        {new int[] {1, 2, 9, 8}, Window2d.square(3, 2, 1)},
        {new int[] {1, 1, 7, 7}, new Window2d(3, 3, 1, 1, 1, 1, 2, 2)},
        {new int[] {2, 1, 4, 6}, new Window2d(2, 3, 1, 2, 0, 1, 1, 1)},
        {new int[] {1, 4, 1, 13}, new Window2d(1, 3, 1, 3, 0, 0, 1, 1)},
    };

    public static void composites(List<OpCase> c, DType f) {
        for (Object[] p : POOLS) {
            TensorType x = t(f, (int[]) p[0]);
            Window2d win = (Window2d) p[1];
            c.add(new OpCase("maxpool2d", "maxpool2d " + shape(x) + " " + win, new Composite.MaxPool2d(win), List.of(x), List.of(UNIFORM), List.of(0), 1));
            if (win.dilationH() == 1 && win.dilationW() == 1) {
                c.add(new OpCase("avgpool2d", "avgpool2d " + shape(x) + " " + win, new Composite.AvgPool2d(win), List.of(x), List.of(UNIFORM), List.of(0),
                        win.kernelH() * win.kernelW()));
            }
        }
    }
}
