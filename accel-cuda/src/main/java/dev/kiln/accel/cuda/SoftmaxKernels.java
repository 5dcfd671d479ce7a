package dev.kiln.accel.cuda;

import dev.kiln.core.DType;

/**
 * Softmax, log-softmax and softmax cross-entropy as row kernels: one block per row along the
 * axis (a tensor seen as [outer, L, inner]), max then sum of exponentials by block reductions,
 * in the compute type (float for half types), as the composites' decompositions define them.
 */
final class SoftmaxKernels {
    private SoftmaxKernels() {}

    static String softmax(DType t, boolean log) {
        String c = CudaTypes.compute(t), st = CudaTypes.storage(t);
        String exp = CudaTypes.math(t, "exp"), ln = CudaTypes.math(t, "log");
        String write = log ? "v - ls" : exp + "(v) / s";
        return CudaTypes.PRELUDE + BlockReduce.functions(c) + """
                extern "C" __global__ void k(long long rows, long long L, long long inner, const %1$s* __restrict__ x, %1$s* __restrict__ y) {
                  __shared__ %2$s buf[256];
                  for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
                    long long base = (row / inner) * L * inner + row %% inner;
                    %2$s mx = %3$s;
                    for (long long j = threadIdx.x; j < L; j += blockDim.x) { %2$s v = %4$s; if (v > mx) mx = v; }
                    mx = block_max(mx, buf);
                    %2$s s = 0;
                    for (long long j = threadIdx.x; j < L; j += blockDim.x) s += %5$s(%4$s - mx);
                    s = block_sum(s, buf);
                    %2$s ls = %6$s(s);
                    for (long long j = threadIdx.x; j < L; j += blockDim.x) { %2$s v = %4$s - mx; y[base + j * inner] = %7$s; }
                  }
                }
                """.formatted(st, c, BlockReduce.lowest(c), CudaTypes.load(t, "x[base + j * inner]"), exp, ln, CudaTypes.store(t, write));
    }

    /**
     * Softmax over contiguous rows of at most {@code 32 * perLane} elements: one warp per row, the
     * row held in registers ({@code perLane} per lane), so x is read once and y written once.
     */
    static String softmaxWarp(DType t, boolean log, int perLane) {
        String c = CudaTypes.compute(t), st = CudaTypes.storage(t);
        String exp = CudaTypes.math(t, "exp"), ln = CudaTypes.math(t, "log");
        String write = log ? "v[u] - ls" : exp + "(v[u]) / s";
        return CudaTypes.PRELUDE + BlockReduce.warpFunctions(c) + """
                #define PER_LANE %8$d
                extern "C" __global__ void k(long long rows, int L, const %1$s* __restrict__ x, %1$s* __restrict__ y) {
                  WARP_ROWS(row, rows) {
                    const %1$s* xr = x + row * L;
                    %1$s* yr = y + row * L;
                    %2$s v[PER_LANE];
                    %2$s mx = %3$s;
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) {
                      int j = lane + 32 * u;
                      v[u] = j < L ? %4$s : %3$s;
                      if (v[u] > mx) mx = v[u];
                    }
                    mx = warp_max(mx);
                    %2$s s = 0;
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) if (lane + 32 * u < L) { v[u] -= mx; s += %5$s(v[u]); }
                    s = warp_sum(s);
                    %2$s ls = %6$s(s);
                    (void) ls;
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) { int j = lane + 32 * u; if (j < L) yr[j] = %7$s; }
                  }
                }
                """.formatted(st, c, BlockReduce.lowest(c), CudaTypes.load(t, "xr[j]"), exp, ln, CudaTypes.store(t, write), perLane);
    }

    /**
     * Per row of logits[n, c]: {@code log_softmax(row)[label]} into a compute-type scratch row
     * (0 for a label outside [0, c), as the one-hot decomposition gives).
     */
    static String crossEntropyRows(DType t, DType label) {
        String c = CudaTypes.compute(t), st = CudaTypes.storage(t);
        return CudaTypes.PRELUDE + BlockReduce.functions(c) + """
                extern "C" __global__ void k(long long n, long long C, const %1$s* __restrict__ x, const %8$s* __restrict__ labels, %2$s* __restrict__ rows) {
                  __shared__ %2$s buf[256];
                  for (long long row = blockIdx.x; row < n; row += gridDim.x) {
                    long long base = row * C;
                    %2$s mx = %3$s;
                    for (long long j = threadIdx.x; j < C; j += blockDim.x) { %2$s v = %4$s; if (v > mx) mx = v; }
                    mx = block_max(mx, buf);
                    %2$s s = 0;
                    for (long long j = threadIdx.x; j < C; j += blockDim.x) s += %5$s(%4$s - mx);
                    s = block_sum(s, buf);
                    if (threadIdx.x == 0) {
                      long long l = (long long) labels[row];
                      rows[row] = (l >= 0 && l < C) ? (%6$s - mx) - %7$s(s) : (%2$s) 0;
                    }
                  }
                }
                """.formatted(st, c, BlockReduce.lowest(c), CudaTypes.load(t, "x[base + j]"), CudaTypes.math(t, "exp"),
                CudaTypes.load(t, "x[base + l]"), CudaTypes.math(t, "log"), CudaTypes.storage(label));
    }

    /** The mean of the per-row values, negated: one block. */
    static String crossEntropyMean(DType t) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + BlockReduce.functions(c) + """
                extern "C" __global__ void k(long long n, const %2$s* __restrict__ rows, %1$s* __restrict__ y) {
                  __shared__ %2$s buf[256];
                  %2$s s = 0;
                  for (long long j = threadIdx.x; j < n; j += blockDim.x) s += rows[j];
                  s = block_sum(s, buf);
                  if (threadIdx.x == 0) { %2$s r = s * ((%2$s) -1 / (%2$s) n); y[0] = %3$s; }
                }
                """.formatted(CudaTypes.storage(t), c, CudaTypes.store(t, "r"));
    }

    /**
     * The logits' gradient of the mean cross-entropy, {@code (softmax(x) - onehot(label)) * (g / n)},
     * one block per row: the whole backward of the loss as one kernel.
     */
    static String crossEntropyGrad(DType t, DType label) {
        String c = CudaTypes.compute(t), st = CudaTypes.storage(t);
        return CudaTypes.PRELUDE + BlockReduce.functions(c) + """
                extern "C" __global__ void k(long long n, long long C, const %1$s* __restrict__ x, const %6$s* __restrict__ labels,
                                             const %1$s* __restrict__ g, %1$s* __restrict__ y) {
                  __shared__ %2$s buf[256];
                  %2$s scale = %7$s * ((%2$s) 1 / (%2$s) n);
                  for (long long row = blockIdx.x; row < n; row += gridDim.x) {
                    long long base = row * C, l = (long long) labels[row];
                    %2$s mx = %3$s;
                    for (long long j = threadIdx.x; j < C; j += blockDim.x) { %2$s v = %4$s; if (v > mx) mx = v; }
                    mx = block_max(mx, buf);
                    %2$s s = 0;
                    for (long long j = threadIdx.x; j < C; j += blockDim.x) s += %5$s(%4$s - mx);
                    s = block_sum(s, buf);
                    for (long long j = threadIdx.x; j < C; j += blockDim.x) {
                      %2$s p = %5$s(%4$s - mx) / s - (j == l ? (%2$s) 1 : (%2$s) 0);
                      y[base + j] = %8$s;
                    }
                  }
                }
                """.formatted(st, c, BlockReduce.lowest(c), CudaTypes.load(t, "x[base + j]"), CudaTypes.math(t, "exp"),
                CudaTypes.storage(label), CudaTypes.load(t, "g[0]"), CudaTypes.store(t, "p * scale"));
    }
}
