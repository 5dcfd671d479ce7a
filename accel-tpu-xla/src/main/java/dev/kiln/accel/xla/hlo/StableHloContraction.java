package dev.kiln.accel.xla.hlo;

import static dev.kiln.accel.xla.hlo.StableHloWriter.i64Array;
import static dev.kiln.accel.xla.hlo.StableHloWriter.list;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Window2d;

/**
 * MatMul and the three convolutions. Transposes and layouts are folded into dimension numbers,
 * never materialised: dot_general names which axes contract, and the convolution's
 * {@code dim_numbers} name which axis of each operand is batch, feature and spatial, so both
 * adjoints are single forward convolutions over the stored tensors (the weight adjoint with
 * batch and channels swapped, the data adjoint over the stride-dilated dy with the flipped
 * kernel). Half-precision operands are widened to f32 and the result rounded once.
 *
 * <p>Window geometry per spatial axis, with kernel {@code K}, stride {@code s}, padding {@code p},
 * dilation {@code d}, input {@code h} and output {@code oh}: the data adjoint dilates dy by
 * {@code s} and pads it with {@code (K-1)d - p} below and {@code h - 1 + p - (oh-1)s} above; the weight
 * adjoint strides by {@code d}, dilates dy by {@code s} and pads x with {@code p} below and
 * {@code (K-1)d + (oh-1)s + 1 - p - h} above. Either can come out negative (padding wider than
 * the dilated kernel, or rows the floor-mode forward never read); StableHLO's negative padding is
 * not something to rely on in XLA, so a negative side is padded with 0 and the extra rows sliced off.
 */
final class StableHloContraction {
    private final StableHloWriter w;

    StableHloContraction(StableHloWriter w) { this.w = w; }

    /** {@code op(a) @ op(b)}, rank 2 or batched rank 3; the result axes of dot_general are batch, a's free, b's free. */
    Ssa matmul(Ssa a0, Ssa b0, boolean transA, boolean transB, Shape out) {
        HloElement e = a0.element();
        Ssa a = widen(a0), b = widen(b0);
        boolean batched = a.rank() == 3;
        int lhsK = (batched ? 1 : 0) + (transA ? 0 : 1), rhsK = (batched ? 1 : 0) + (transB ? 1 : 0);
        String head = "stablehlo.dot_general " + a.name() + ", " + b.name() + ", "
                + (batched ? "batching_dims = [0] x [0], " : "") + "contracting_dims = [" + lhsK + "] x [" + rhsK + "]";
        return w.convert(w.pretty(head, a.element(), out, a, b), e);
    }

    /** {@code x[n, c, h, w]} cross-correlated with {@code weight[o, c/g, kh, kw]}: the IR's NCHW/OIHW is StableHLO's {@code [b, f, 0, 1]x[o, i, 0, 1]}. */
    Ssa conv(Ssa x0, Ssa weight0, Window2d win, int groups, Shape out) {
        Ssa x = widen(x0), weight = widen(weight0);
        // Window2d's output size divides a negative numerator toward zero, so a last window that
        // overhangs the padded input by less than a stride still counts (PyTorch would refuse it).
        // The reference skips the taps that overhang, which is what more zero padding computes.
        int overhangH = Math.max(0, (out.dim(2) - 1) * win.strideH() + (win.kernelH() - 1) * win.dilationH() + 1 - x.shape().dim(2) - 2 * win.padH());
        int overhangW = Math.max(0, (out.dim(3) - 1) * win.strideW() + (win.kernelW() - 1) * win.dilationW() + 1 - x.shape().dim(3) - 2 * win.padW());
        String window = window(new int[] {win.strideH(), win.strideW()},
                new int[][] {{win.padH(), win.padH() + overhangH}, {win.padW(), win.padW() + overhangW}}, new int[] {1, 1}, new int[] {win.dilationH(), win.dilationW()});
        return w.convert(convolution(x, weight, "[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]", window, groups, 1, out), x0.element());
    }

    /**
     * dx from {@code dy[n, o, oh, ow]} and {@code weight[o, c/g, kh, kw]}: the transposed
     * convolution, a stride-1 convolution over dy dilated by the stride, with the kernel flipped
     * in space and its feature roles swapped ({@code [i, o, 0, 1]}). Groups need the kernel's
     * output features (x's channels) to run group-major, so the weight is regrouped to
     * {@code [o/g, c, kh, kw]} first. The dilation and padding of dy are a {@code stablehlo.pad}
     * (interior padding {@code s - 1}) rather than the convolution's {@code lhs_dilate}: TF 2.18's
     * algebraic simplifier aborts the process on some lhs-dilated convolutions whose kernel is
     * larger than the input (it swaps the operands and builds a window that fails its own check),
     * for example k2 s3 p2 d3 over a one-row dy.
     */
    Ssa convBackwardData(Ssa dy0, Ssa weight0, Window2d win, int groups, Shape input) {
        Ssa dy = widen(dy0), weight = widen(weight0);
        Shape ws = weight.shape();
        if (groups > 1) {
            int og = ws.dim(0) / groups, cg = ws.dim(1), kh = ws.dim(2), kw = ws.dim(3);
            Ssa split = w.reshape(weight, Shape.of(groups, og, cg, kh, kw));
            Ssa swapped = w.op("transpose", split.element(), Shape.of(og, groups, cg, kh, kw), "permutation = " + i64Array(1, 0, 2, 3, 4), split);
            weight = w.reshape(swapped, Shape.of(og, groups * cg, kh, kw));
        }
        Ssa flipped = w.op("reverse", weight.element(), weight.shape(), "dimensions = " + i64Array(2, 3), weight);
        int[] oh = {dy.shape().dim(2), dy.shape().dim(3)}, h = {input.dim(2), input.dim(3)};
        int[] k = {win.kernelH(), win.kernelW()}, s = {win.strideH(), win.strideW()}, p = {win.padH(), win.padW()}, d = {win.dilationH(), win.dilationW()};
        int[] low = new int[4], high = new int[4], interior = new int[4], padded = dy.shape().dims();
        int[] cut = new int[2], full = new int[2];
        for (int i = 0; i < 2; i++) {
            int lo = (k[i] - 1) * d[i] - p[i], hi = h[i] - 1 + p[i] - (oh[i] - 1) * s[i];
            low[2 + i] = Math.max(lo, 0);
            high[2 + i] = Math.max(hi, 0);
            interior[2 + i] = s[i] - 1;
            padded[2 + i] = (oh[i] - 1) * s[i] + 1 + low[2 + i] + high[2 + i];
            cut[i] = Math.max(-lo, 0);
            full[i] = h[i] + Math.max(-lo, 0) + Math.max(-hi, 0);
        }
        Ssa dilated = w.op("pad", dy.element(), Shape.of(padded), "edge_padding_low = " + i64Array(low) + ", edge_padding_high = " + i64Array(high)
                + ", interior_padding = " + i64Array(interior), dy, w.constant(0, dy.element()));
        Shape convOut = Shape.of(input.dim(0), input.dim(1), full[0], full[1]);
        Ssa dx = convolution(dilated, flipped, "[b, f, 0, 1]x[i, o, 0, 1]->[b, f, 0, 1]", window(new int[] {1, 1}, new int[2][2], new int[] {1, 1}, d), groups, 1, convOut);
        return w.convert(spatialSlice(dx, cut, h), dy0.element());
    }

    /**
     * dweight from {@code x[n, c, h, w]} and {@code dy[n, o, oh, ow]}: a convolution whose "batch"
     * is x's channels and whose contracted feature is the batch n, with dy as the kernel; the
     * window steps by the dilation and dy's taps are spaced by the stride. Groups are
     * {@code batch_group_count}: channel group g meets only output-channel group g, and the result
     * is laid out {@code [o, c/g, kh, kw]} directly by the output dimension numbers {@code [f, b, 0, 1]}.
     */
    Ssa convBackwardWeights(Ssa x0, Ssa dy0, Window2d win, int groups, Shape weight) {
        Ssa x = widen(x0), dy = widen(dy0);
        int[] oh = {dy.shape().dim(2), dy.shape().dim(3)}, h = {x.shape().dim(2), x.shape().dim(3)};
        int[] k = {win.kernelH(), win.kernelW()}, s = {win.strideH(), win.strideW()}, p = {win.padH(), win.padW()}, d = {win.dilationH(), win.dilationW()};
        int[][] pad = new int[2][2];
        int[] full = new int[2];
        for (int i = 0; i < 2; i++) {
            int hi = (k[i] - 1) * d[i] + (oh[i] - 1) * s[i] + 1 - p[i] - h[i];
            pad[i] = new int[] {p[i], Math.max(hi, 0)};
            full[i] = (h[i] + p[i] + pad[i][1] - (oh[i] - 1) * s[i] - 1) / d[i] + 1;
        }
        Shape convOut = Shape.of(weight.dim(0), weight.dim(1), full[0], full[1]);
        Ssa dw = convolution(x, dy, "[f, b, 0, 1]x[i, o, 0, 1]->[f, b, 0, 1]", window(d, pad, new int[] {1, 1}, s), 1, groups, convOut);
        return w.convert(spatialSlice(dw, new int[] {0, 0}, k), x0.element());
    }

    private Ssa convolution(Ssa lhs, Ssa rhs, String dims, String window, int featureGroups, int batchGroups, Shape out) {
        String head = "stablehlo.convolution(" + lhs.name() + ", " + rhs.name() + ") dim_numbers = " + dims + ", window = {" + window + "} {batch_group_count = "
                + batchGroups + " : i64, feature_group_count = " + featureGroups + " : i64}";
        return w.pretty(head, lhs.element(), out, lhs, rhs);
    }

    private static String window(int[] stride, int[][] pad, int[] lhsDilation, int[] rhsDilation) {
        return "stride = " + list(stride) + ", pad = [" + list(pad[0]) + ", " + list(pad[1]) + "], lhs_dilate = " + list(lhsDilation)
                + ", rhs_dilate = " + list(rhsDilation);
    }

    /** Rows {@code [from, from + size)} of the two spatial axes of an NCHW tensor, or the tensor itself when that is all of it. */
    private Ssa spatialSlice(Ssa t, int[] from, int[] size) {
        Shape s = t.shape();
        if (from[0] == 0 && from[1] == 0 && s.dim(2) == size[0] && s.dim(3) == size[1]) return t;
        Shape out = Shape.of(s.dim(0), s.dim(1), size[0], size[1]);
        return w.op("slice", t.element(), out, "start_indices = " + i64Array(0, 0, from[0], from[1]) + ", limit_indices = "
                + i64Array(s.dim(0), s.dim(1), from[0] + size[0], from[1] + size[1]) + ", strides = " + i64Array(1, 1, 1, 1), t);
    }

    private Ssa widen(Ssa x) { return w.convert(x, x.element().isHalf() ? HloElement.F32 : x.element()); }
}
