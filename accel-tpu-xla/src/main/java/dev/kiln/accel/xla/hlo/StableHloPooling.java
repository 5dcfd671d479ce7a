package dev.kiln.accel.xla.hlo;

import static dev.kiln.accel.xla.hlo.StableHloWriter.i64Array;

import dev.kiln.core.Shape;
import dev.kiln.spi.ir.Window2d;

/**
 * {@code MaxPool2dIndices}: for each window, the flat index into x of its first largest element,
 * padding never winning. Written as a scan over the kernel's taps rather than a variadic
 * {@code reduce_window} on (value, index) pairs: the scan visits taps in the reference's order and
 * keeps a tap only when it is strictly greater, so ties, {@code -inf} and even NaN resolve exactly
 * as the reference's loop does, whereas a reduce_window reducer must be commutative and XLA may
 * apply it in any order. Each tap is a strided slice of the padded input, so the cost is a few
 * elementwise ops per tap (9 taps for a 3x3 window) and XLA fuses them into one loop.
 */
final class StableHloPooling {
    private final StableHloWriter w;

    StableHloPooling(StableHloWriter w) { this.w = w; }

    Ssa maxPoolIndices(Ssa x, Window2d win, Shape out) {
        Shape xs = x.shape();
        int oh = out.dim(2), ow = out.dim(3);
        int padHighH = Math.max(0, (oh - 1) * win.strideH() + (win.kernelH() - 1) * win.dilationH() + 1 - xs.dim(2) - win.padH());
        int padHighW = Math.max(0, (ow - 1) * win.strideW() + (win.kernelW() - 1) * win.dilationW() + 1 - xs.dim(3) - win.padW());
        int[] low = {0, 0, win.padH(), win.padW()}, high = {0, 0, padHighH, padHighW};

        // Flat row-major indices of x, and -1 wherever padding is: a tap is real when its index is >= 0.
        Ssa flat = w.op("iota", HloElement.I32, Shape.of(Math.toIntExact(xs.size())), "iota_dimension = 0 : i64");
        Ssa index = pad(w.reshape(flat, xs), w.integer(-1, HloElement.I32), low, high);
        Ssa value = pad(x, w.constant(0, x.element()), low, high);

        Ssa none = win.kernelH() * win.kernelW() > 1 ? w.splat(-1, HloElement.I32, out) : null;
        Ssa best = null, at = null;
        for (int ki = 0; ki < win.kernelH(); ki++) {
            for (int kj = 0; kj < win.kernelW(); kj++) {
                int r = ki * win.dilationH(), c = kj * win.dilationW();
                int[] start = {0, 0, r, c};
                int[] limit = {xs.dim(0), xs.dim(1), r + (oh - 1) * win.strideH() + 1, c + (ow - 1) * win.strideW() + 1};
                int[] strides = {1, 1, win.strideH(), win.strideW()};
                Ssa v = slice(value, start, limit, strides, out), i = slice(index, start, limit, strides, out);
                if (best == null) {
                    best = v;
                    at = i;
                    continue;
                }
                // take = real && (nothing real yet || v > best), the reference's condition.
                Ssa real = w.compare("GT", i, none);
                Ssa first = w.compare("EQ", at, none);
                Ssa take = w.map("and", real, w.map("or", first, w.compare("GT", v, best)));
                best = w.select(take, v, best);
                at = w.select(take, i, at);
            }
        }
        return at;
    }

    private Ssa pad(Ssa x, Ssa padValue, int[] low, int[] high) {
        int[] d = x.shape().dims();
        boolean any = false;
        for (int i = 0; i < d.length; i++) {
            d[i] += low[i] + high[i];
            any |= low[i] != 0 || high[i] != 0;
        }
        if (!any) return x;
        return w.op("pad", x.element(), Shape.of(d), "edge_padding_low = " + i64Array(low) + ", edge_padding_high = " + i64Array(high)
                + ", interior_padding = " + i64Array(new int[low.length]), x, padValue);
    }

    private Ssa slice(Ssa x, int[] start, int[] limit, int[] strides, Shape out) {
        return w.op("slice", x.element(), out, "start_indices = " + i64Array(start) + ", limit_indices = " + i64Array(limit)
                + ", strides = " + i64Array(strides), x);
    }
}
