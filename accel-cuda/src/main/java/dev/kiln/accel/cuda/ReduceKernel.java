package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import java.util.ArrayList;
import java.util.List;

/**
 * Sum or max over any set of axes: one block per output element, its threads striding over the
 * reduced elements (any strides) and combining in shared memory. Half types accumulate in float.
 */
final class ReduceKernel {
    private ReduceKernel() {}

    static String source(ReduceFn fn, DType t) {
        String c = CudaTypes.compute(t);
        String init = fn == ReduceFn.SUM ? "(" + c + ") 0" : BlockReduce.lowest(c);
        String combine = fn == ReduceFn.SUM ? "acc += v;" : "if (v > acc) acc = v;";
        String st = CudaTypes.storage(t);
        return CudaTypes.PRELUDE + BlockReduce.functions(c) + """
                extern "C" __global__ void k(long long m, long long R, int krank, Dims kdims, Dims kstr, int rrank, Dims rdims, Dims rstr,
                                             const %1$s* __restrict__ x, %1$s* __restrict__ y) {
                  __shared__ %2$s buf[256];
                  for (long long o = blockIdx.x; o < m; o += gridDim.x) {
                    long long base = 0, rem = o;
                    for (int d = krank - 1; d >= 0; d--) { long long c = rem %% kdims.d[d]; rem /= kdims.d[d]; base += c * kstr.d[d]; }
                    %2$s acc = %3$s;
                    for (long long j = threadIdx.x; j < R; j += blockDim.x) {
                      long long off = base, rj = j;
                      for (int d = rrank - 1; d >= 0; d--) { long long c = rj %% rdims.d[d]; rj /= rdims.d[d]; off += c * rstr.d[d]; }
                      %2$s v = %4$s;
                      %5$s
                    }
                    %2$s r = %6$s(acc, buf);
                    if (threadIdx.x == 0) y[o] = %7$s;
                  }
                }
                """.formatted(st, c, init, CudaTypes.load(t, "x[off]"), combine, fn == ReduceFn.SUM ? "block_sum" : "block_max", CudaTypes.store(t, "r"));
    }

    static KernelLaunch launch(CudaKernels k, ReduceFn fn, DType t, int[] dims, List<Integer> axes, long x, long y) {
        long[] strides = MapKernel.rowMajor(dims);
        List<long[]> kept = new ArrayList<>(), reduced = new ArrayList<>();
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == 1) continue;
            (axes.contains(i) ? reduced : kept).add(new long[] {dims[i], strides[i]});
        }
        long m = 1, r = 1;
        for (long[] a : kept) m *= a[0];
        for (long[] a : reduced) r *= a[0];
        long[][] kd = merge(kept), rd = merge(reduced);
        String name = "reduce_" + fn.name().toLowerCase(java.util.Locale.ROOT) + "_" + t.label();
        return k.launch(name, source(fn, t)).i64(m).i64(r).i32(kd[0].length).dims(kd[0]).dims(kd[1]).i32(rd[0].length).dims(rd[0]).dims(rd[1])
                .ptr(x).ptr(y).grid((int) Math.min(m, 65535L * 16), BlockReduce.threads(r), 0);
    }

    /** Axes as {dims, strides}, neighbours merged where contiguous. */
    private static long[][] merge(List<long[]> axes) {
        List<long[]> out = new ArrayList<>();
        for (long[] a : axes) {
            long[] last = out.isEmpty() ? null : out.getLast();
            if (last != null && last[1] == a[1] * a[0]) {
                last[0] *= a[0];
                last[1] = a[1];
            } else out.add(a.clone());
        }
        if (out.size() > KernelLaunch.MAX_RANK) throw new IllegalArgumentException("cuda reductions take at most rank " + KernelLaunch.MAX_RANK);
        return new long[][] {out.stream().mapToLong(a -> a[0]).toArray(), out.stream().mapToLong(a -> a[1]).toArray()};
    }
}
