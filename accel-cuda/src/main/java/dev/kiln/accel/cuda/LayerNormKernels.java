package dev.kiln.accel.cuda;

import dev.kiln.core.DType;

/**
 * Layer normalisation as warp-per-row kernels with the row in registers ({@code perLane} values
 * per lane, rows of at most 1024): the forward reads x once and writes y once; the backward's
 * first kernel writes dx and each row's mean and inverse deviation, its second sums dgamma and
 * dbeta down the columns (partials per row range, added by {@link ReduceKernel#columnTotals}).
 * Same arithmetic as {@code Composite.LayerNorm}'s and {@code LayerNormGrad}'s decompositions.
 */
final class LayerNormKernels {
    private LayerNormKernels() {}

    /** Loads row {@code row} of x into {@code xv}, and sets {@code mean} and {@code inv}. */
    private static String statistics(String c) {
        return """
                    %1$s xv[PER_LANE], mean = 0, var = 0;
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) { int j = lane + 32 * u; xv[u] = j < D ? LOADX : (%1$s) 0; mean += xv[u]; }
                    mean = warp_sum(mean) * ((%1$s) 1 / (%1$s) D);
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) if (lane + 32 * u < D) { %1$s d = xv[u] - mean; var += d * d; }
                    var = warp_sum(var) * ((%1$s) 1 / (%1$s) D);
                    %1$s inv = (%1$s) 1 / SQRT(var + (%1$s) eps);
                """.formatted(c);
    }

    private static String prelude(DType t, int perLane) {
        return CudaTypes.PRELUDE + BlockReduce.warpFunctions(CudaTypes.compute(t)) + "#define PER_LANE " + perLane + "\n"
                + "#define SQRT " + CudaTypes.math(t, "sqrt") + "\n#define LOADX " + CudaTypes.load(t, "xr[j]") + "\n";
    }

    static String forward(DType t, int perLane) {
        String c = CudaTypes.compute(t);
        return prelude(t, perLane) + """
                extern "C" __global__ void k(long long rows, int D, double eps, const %1$s* __restrict__ x, const %1$s* __restrict__ gamma,
                                             const %1$s* __restrict__ beta, %1$s* __restrict__ y) {
                  WARP_ROWS(row, rows) {
                    const %1$s* xr = x + row * D;
                %3$s
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) {
                      int j = lane + 32 * u;
                      if (j < D) { %2$s r = (xv[u] - mean) * inv * %4$s + %5$s; y[row * D + j] = %6$s; }
                    }
                  }
                }
                """.formatted(CudaTypes.storage(t), c, statistics(c), CudaTypes.load(t, "gamma[j]"), CudaTypes.load(t, "beta[j]"), CudaTypes.store(t, "r"));
    }

    /** dx, and per row {mean, inv} into {@code stats} (compute type), for {@link #paramPartials}. */
    static String backwardRows(DType t, int perLane) {
        String c = CudaTypes.compute(t);
        return prelude(t, perLane) + """
                extern "C" __global__ void k(long long rows, int D, double eps, const %1$s* __restrict__ x, const %1$s* __restrict__ gamma,
                                             const %1$s* __restrict__ dy, %1$s* __restrict__ dx, %2$s* __restrict__ stats) {
                  WARP_ROWS(row, rows) {
                    const %1$s* xr = x + row * D;
                %3$s
                    %2$s g[PER_LANE], sg = 0, sgx = 0;
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) {
                      int j = lane + 32 * u;
                      g[u] = 0;
                      if (j < D) {
                        g[u] = %4$s * %5$s;
                        xv[u] = (xv[u] - mean) * inv;
                        sg += g[u];
                        sgx += g[u] * xv[u];
                      }
                    }
                    %2$s meanG = warp_sum(sg) * ((%2$s) 1 / (%2$s) D), meanGx = warp_sum(sgx) * ((%2$s) 1 / (%2$s) D);
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) {
                      int j = lane + 32 * u;
                      if (j < D) { %2$s r = inv * ((g[u] - meanG) - xv[u] * meanGx); dx[row * D + j] = %6$s; }
                    }
                    if (lane == 0) { stats[2 * row] = mean; stats[2 * row + 1] = inv; }
                  }
                }
                """.formatted(CudaTypes.storage(t), c, statistics(c), CudaTypes.load(t, "dy[row * D + j]"), CudaTypes.load(t, "gamma[j]"),
                CudaTypes.store(t, "r"));
    }

    /**
     * dgamma and dbeta partials: block b covers 32 columns and one range of {@code chunk} rows
     * (8 warps taking every 8th row); partial sums of {@code dy * xhat} and {@code dy} per column.
     */
    static String paramPartials(DType t) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + """
                extern "C" __global__ void k(long long R, long long C, long long chunk, const %1$s* __restrict__ x, const %1$s* __restrict__ dy,
                                             const %2$s* __restrict__ stats, %2$s* __restrict__ pg, %2$s* __restrict__ pb) {
                  __shared__ %2$s bg[8][33], bb[8][33];
                  long long tiles = (C + 31) / 32, tile = blockIdx.x %% tiles, split = blockIdx.x / tiles;
                  unsigned int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
                  long long col = tile * 32 + tx, r1 = min(R, (split + 1) * chunk);
                  %2$s ag = 0, ab = 0;
                  if (col < C) for (long long r = split * chunk + ty; r < r1; r += 8) {
                    %2$s d = %3$s;
                    ag += d * ((%4$s - stats[2 * r]) * stats[2 * r + 1]);
                    ab += d;
                  }
                  bg[ty][tx] = ag;
                  bb[ty][tx] = ab;
                  __syncthreads();
                  if (ty == 0 && col < C) {
                    for (int w = 1; w < 8; w++) { ag += bg[w][tx]; ab += bb[w][tx]; }
                    pg[split * C + col] = ag;
                    pb[split * C + col] = ab;
                  }
                }
                """.formatted(CudaTypes.storage(t), c, CudaTypes.load(t, "dy[r * C + col]"), CudaTypes.load(t, "x[r * C + col]"));
    }
}
