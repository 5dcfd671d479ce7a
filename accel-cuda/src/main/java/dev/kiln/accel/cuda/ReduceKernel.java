package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.spi.ir.Primitive.ReduceFn;
import java.util.ArrayList;
import java.util.List;

/**
 * Sum or max over any set of axes, in one of three shapes chosen at plan time. Rows (the reduced
 * axes innermost and contiguous, as in a norm's statistics): one warp per output, shuffles, no
 * shared memory. Columns (the reduced axes outermost, the kept ones a contiguous tail, as in a
 * bias gradient): threads own adjacent columns so reads coalesce, row ranges split across blocks,
 * then a second pass adds the partials. Anything else: one block per output over any strides.
 * Half types accumulate in float; every order is fixed, so results repeat run to run.
 */
final class ReduceKernel {
    private ReduceKernel() {}

    static String source(ReduceFn fn, DType t) {
        String c = CudaTypes.compute(t), st = CudaTypes.storage(t);
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
                """.formatted(st, c, init(fn, c), CudaTypes.load(t, "x[off]"), combine(fn), fn == ReduceFn.SUM ? "block_sum" : "block_max", CudaTypes.store(t, "r"));
    }

    /** One warp per output row of R contiguous elements; kept axes give each row's start. */
    static String rows(ReduceFn fn, DType t) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + BlockReduce.warpFunctions(c) + """
                extern "C" __global__ void k(long long m, long long R, int krank, Dims kdims, Dims kstr, const %1$s* __restrict__ x, %1$s* __restrict__ y) {
                  WARP_ROWS(o, m) {
                    long long base = 0;
                    if (krank == 1) base = o * kstr.d[0];
                    else for (long long rem = o, d = krank - 1; d >= 0; d--) { long long e = kdims.d[d]; base += (rem %% e) * kstr.d[d]; rem /= e; }
                    const %1$s* row = x + base;
                    %2$s acc = %3$s;
                    for (long long j = lane; j < R; j += 32) { %2$s v = %4$s; %5$s }
                    acc = %6$s(acc);
                    if (lane == 0) y[o] = %7$s;
                  }
                }
                """.formatted(CudaTypes.storage(t), c, init(fn, c), CudaTypes.load(t, "row[j]"), combine(fn),
                fn == ReduceFn.SUM ? "warp_sum" : "warp_max", CudaTypes.store(t, "acc"));
    }

    /**
     * Pass one of a column reduction of x[R, C]: block b covers 32 columns and one range of
     * {@code chunk} rows, its 8 warps taking every 8th row; it writes one partial per column.
     */
    static String columnPartials(ReduceFn fn, DType t) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + """
                extern "C" __global__ void k(long long R, long long C, long long chunk, const %1$s* __restrict__ x, %2$s* __restrict__ part) {
                  __shared__ %2$s buf[8][33];
                  long long tiles = (C + 31) / 32, tile = blockIdx.x %% tiles, split = blockIdx.x / tiles;
                  unsigned int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
                  long long col = tile * 32 + tx, r1 = min(R, (split + 1) * chunk);
                  %2$s acc = %3$s;
                  if (col < C) for (long long r = split * chunk + ty; r < r1; r += 8) { %2$s v = %4$s; %5$s }
                  buf[ty][tx] = acc;
                  __syncthreads();
                  if (ty == 0) {
                    for (int w = 1; w < 8; w++) { %2$s v = buf[w][tx]; %5$s }
                    if (col < C) part[split * C + col] = acc;
                  }
                }
                """.formatted(CudaTypes.storage(t), c, init(fn, c), CudaTypes.load(t, "x[r * C + col]"), combine(fn));
    }

    /**
     * Pass one of a long-row reduction (few outputs, many terms each, as a total): block b takes
     * range {@code b % splits} of output row {@code b / splits} and writes its partial at
     * {@code part[split * m + row]}, so {@link #columnTotals} finishes it.
     */
    static String rowPartials(ReduceFn fn, DType t) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + BlockReduce.functions(c) + """
                extern "C" __global__ void k(long long m, long long R, long long chunk, long long splits, int krank, Dims kdims, Dims kstr,
                                             const %1$s* __restrict__ x, %2$s* __restrict__ part) {
                  __shared__ %2$s buf[256];
                  long long o = blockIdx.x / splits, split = blockIdx.x %% splits, base = 0;
                  for (long long rem = o, d = krank - 1; d >= 0; d--) { long long e = kdims.d[d]; base += (rem %% e) * kstr.d[d]; rem /= e; }
                  long long r1 = min(R, (split + 1) * chunk);
                  %2$s acc = %3$s;
                  for (long long j = split * chunk + threadIdx.x; j < r1; j += blockDim.x) { %2$s v = %4$s; %5$s }
                  acc = %6$s(acc, buf);
                  if (threadIdx.x == 0) part[split * m + o] = acc;
                }
                """.formatted(CudaTypes.storage(t), c, init(fn, c), CudaTypes.load(t, "x[base + j]"), combine(fn),
                fn == ReduceFn.SUM ? "block_sum" : "block_max");
    }

    /** Pass two: y[c] combines the S partials of column c in order. */
    static String columnTotals(ReduceFn fn, DType t) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + """
                extern "C" __global__ void k(long long S, long long C, const %2$s* __restrict__ part, %1$s* __restrict__ y) {
                  for (long long col = blockIdx.x * (long long) blockDim.x + threadIdx.x; col < C; col += (long long) gridDim.x * blockDim.x) {
                    %2$s acc = %3$s;
                    for (long long s = 0; s < S; s++) { %2$s v = part[s * C + col]; %4$s }
                    y[col] = %5$s;
                  }
                }
                """.formatted(CudaTypes.storage(t), c, init(fn, c), combine(fn), CudaTypes.store(t, "acc"));
    }

    private static String init(ReduceFn fn, String c) { return fn == ReduceFn.SUM ? "(" + c + ") 0" : BlockReduce.lowest(c); }

    private static String combine(ReduceFn fn) { return fn == ReduceFn.SUM ? "acc += v;" : "if (v > acc) acc = v;"; }

    /** The kept and reduced axes (size-1 axes dropped, contiguous neighbours merged) and their element counts. */
    private record Split(long m, long r, long[][] kept, long[][] reduced) {
        static Split of(int[] dims, List<Integer> axes) {
            long[] strides = MapKernel.rowMajor(dims);
            List<long[]> kept = new ArrayList<>(), reduced = new ArrayList<>();
            for (int i = 0; i < dims.length; i++) {
                if (dims[i] == 1) continue;
                (axes.contains(i) ? reduced : kept).add(new long[] {dims[i], strides[i]});
            }
            long m = 1, r = 1;
            for (long[] a : kept) m *= a[0];
            for (long[] a : reduced) r *= a[0];
            return new Split(m, r, merge(kept), merge(reduced));
        }

        /** The reduced elements of each output are one contiguous run. */
        boolean rows() { return reduced[0].length == 1 && reduced[1][0] == 1; }

        /** x is [r, m] row-major: reduced rows over contiguous kept columns. */
        boolean columns() { return r > 0 && kept[0].length == 1 && kept[1][0] == 1 && reduced[0].length == 1 && reduced[1][0] == kept[0][0]; }

        long[] keptDims() { return kept[0].length == 0 ? new long[] {1} : kept[0]; }

        long[] keptStrides() { return kept[0].length == 0 ? new long[] {0} : kept[1]; }
    }

    /**
     * {splits, chunk}: cuts {@code rows} into ranges of at least {@code minChunk} so that
     * {@code blocksPerSplit} blocks per range give the device about four blocks per multiprocessor.
     */
    static long[] splitRows(long rows, long minChunk, long blocksPerSplit, int sms) {
        long splits = Math.max(1, Math.min((rows + minChunk - 1) / minChunk, ((long) sms * 4 + blocksPerSplit - 1) / blocksPerSplit));
        long chunk = Math.max(1, (rows + splits - 1) / splits);
        return new long[] {Math.max(1, (rows + chunk - 1) / chunk), chunk};
    }

    static void plan(CudaKernels k, ReduceFn fn, DType t, int[] dims, List<Integer> axes, long x, long y) {
        Split a = Split.of(dims, axes);
        long m = a.m(), r = a.r();
        String suffix = fn.name().toLowerCase(java.util.Locale.ROOT) + "_" + t.label();
        int sms = k.multiprocessors();
        if (a.rows() && (m >= 1024 || r <= 4096)) {
            k.add(k.launch("reduce_rows_" + suffix, rows(fn, t)).i64(m).i64(r).i32(a.keptDims().length).dims(a.keptDims()).dims(a.keptStrides())
                    .ptr(x).ptr(y).grid(BlockReduce.warpGrid(m, sms), 256, 0));
        } else if (a.rows() && m > 0) {
            long[] sc = splitRows(r, 2048, m, sms);
            long part = k.allocate(sc[0] * m * CudaTypes.computeBytes(t));
            k.add(k.launch("reduce_row_parts_" + suffix, rowPartials(fn, t)).i64(m).i64(r).i64(sc[1]).i64(sc[0])
                    .i32(a.keptDims().length).dims(a.keptDims()).dims(a.keptStrides()).ptr(x).ptr(part).grid((int) (m * sc[0]), 256, 0));
            k.add(k.launch("reduce_col_totals_" + suffix, columnTotals(fn, t)).i64(sc[0]).i64(m).ptr(part).ptr(y).elements(m, sms));
        } else if (a.columns()) {
            long tiles = (m + 31) / 32;
            long[] sc = splitRows(r, 8, tiles, sms);
            long part = k.allocate(sc[0] * m * CudaTypes.computeBytes(t));
            k.add(k.launch("reduce_cols_" + suffix, columnPartials(fn, t)).i64(r).i64(m).i64(sc[1]).ptr(x).ptr(part).grid((int) (tiles * sc[0]), 256, 0));
            k.add(k.launch("reduce_col_totals_" + suffix, columnTotals(fn, t)).i64(sc[0]).i64(m).ptr(part).ptr(y).elements(m, sms));
        } else {
            String name = "reduce_" + suffix;
            k.add(k.launch(name, source(fn, t)).i64(m).i64(r).i32(a.kept()[0].length).dims(a.kept()[0]).dims(a.kept()[1])
                    .i32(a.reduced()[0].length).dims(a.reduced()[0]).dims(a.reduced()[1])
                    .ptr(x).ptr(y).grid((int) Math.min(m, 65535L * 16), BlockReduce.threads(r), 0));
        }
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
