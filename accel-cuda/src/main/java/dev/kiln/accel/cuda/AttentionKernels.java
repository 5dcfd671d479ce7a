package dev.kiln.accel.cuda;

import dev.kiln.core.DType;

/**
 * The row kernels between attention's matmuls, one warp per score row held in registers
 * ({@code perLane} values per lane): the scaled, causally masked softmax from the scores, and
 * the softmax backward {@code ds = p * (dp - sum(dp * p)) * scale}, written over p in place (a
 * warp reads its whole row before writing it). Scores and their gradient arrive in the compute
 * type (cuBLASLt writes them wide), probabilities leave in the storage type for the next matmul.
 */
final class AttentionKernels {
    private AttentionKernels() {}

    private static String prelude(DType t, int perLane) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + BlockReduce.warpFunctions(c) + "#define PER_LANE " + perLane + "\n";
    }

    /** p[r, j] over rows r = (batch, query i) of s[rows, S]; key j is hidden from query i when causal and j > i. */
    static String softmax(DType t, int perLane) {
        String c = CudaTypes.compute(t);
        return prelude(t, perLane) + """
                extern "C" __global__ void k(long long rows, int T, int S, double scale, int causal, const %2$s* __restrict__ s, %1$s* __restrict__ p) {
                  WARP_ROWS(row, rows) {
                    int last = causal ? (int) (row %% T) : S - 1;
                    const %2$s* sr = s + row * S;
                    %2$s v[PER_LANE], mx = %3$s;
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) {
                      int j = lane + 32 * u;
                      v[u] = j < S && j <= last ? sr[j] * (%2$s) scale : %3$s;
                      if (v[u] > mx) mx = v[u];
                    }
                    mx = warp_max(mx);
                    %2$s sum = 0;
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) {
                      int j = lane + 32 * u;
                      v[u] = j < S && j <= last ? %4$s(v[u] - mx) : (%2$s) 0;
                      sum += v[u];
                    }
                    sum = warp_sum(sum);
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) { int j = lane + 32 * u; if (j < S) p[row * S + j] = %5$s; }
                  }
                }
                """.formatted(CudaTypes.storage(t), c, BlockReduce.lowest(c), CudaTypes.math(t, "exp"), CudaTypes.store(t, "v[u] / sum"));
    }

    /** ds over p in place, from dp (compute type) and p (storage type). */
    static String softmaxBackward(DType t, int perLane) {
        String c = CudaTypes.compute(t);
        return prelude(t, perLane) + """
                extern "C" __global__ void k(long long rows, int S, double scale, const %2$s* __restrict__ dp, %1$s* __restrict__ p) {
                  WARP_ROWS(row, rows) {
                    %2$s pv[PER_LANE], dv[PER_LANE], dot = 0;
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) {
                      int j = lane + 32 * u;
                      pv[u] = j < S ? %3$s : (%2$s) 0;
                      dv[u] = j < S ? dp[row * S + j] : (%2$s) 0;
                      dot += dv[u] * pv[u];
                    }
                    dot = warp_sum(dot);
                    #pragma unroll
                    for (int u = 0; u < PER_LANE; u++) { int j = lane + 32 * u; if (j < S) p[row * S + j] = %4$s; }
                  }
                }
                """.formatted(CudaTypes.storage(t), c, CudaTypes.load(t, "p[row * S + j]"), CudaTypes.store(t, "pv[u] * (dv[u] - dot) * (" + c + ") scale"));
    }
}
