package dev.kiln.accel.cuda;

import dev.kiln.core.DType;

/**
 * A plain matmul, one thread per output element, for what cuBLASLt does not take (integer
 * types, layouts its heuristics refuse). Strides express the transposes.
 */
final class MatmulKernel {
    private MatmulKernel() {}

    static String source(DType t) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + """
                extern "C" __global__ void k(long long batch, long long M, long long N, long long K,
                                             const %1$s* __restrict__ a, long long sab, long long sam, long long sak,
                                             const %1$s* __restrict__ b, long long sbb, long long sbk, long long sbn, %1$s* __restrict__ c) {
                  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < batch * M * N; i += (long long) gridDim.x * blockDim.x) {
                    long long n = i %% N, t = i / N, m = t %% M, bb = t / M;
                    %2$s acc = 0;
                    for (long long k = 0; k < K; k++) acc += %3$s * %4$s;
                    c[i] = %5$s;
                  }
                }
                """.formatted(CudaTypes.storage(t), c, CudaTypes.load(t, "a[bb * sab + m * sam + k * sak]"),
                CudaTypes.load(t, "b[bb * sbb + k * sbk + n * sbn]"), CudaTypes.store(t, "acc"));
    }
}
