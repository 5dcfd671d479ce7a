package dev.kiln.accel.cuda;

import dev.kiln.core.DType;

/**
 * Gather and scatter-add over one axis, with the tensor seen as [P, A, Q] and the indices as J
 * entries. An index outside [0, A) reads zero and adds nothing: a device fault would poison the
 * whole context, so indices are checked rather than trusted.
 */
final class IndexingKernels {
    private IndexingKernels() {}

    static String gather(DType t, DType idx) {
        return """
                extern "C" __global__ void k(long long total, long long A, long long J, long long Q, const %1$s* __restrict__ x,
                                             const %2$s* __restrict__ idx, %1$s* __restrict__ y) {
                  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total; i += (long long) gridDim.x * blockDim.x) {
                    long long q = i %% Q, t = i / Q, j = t %% J, p = t / J;
                    long long a = (long long) idx[j];
                    y[i] = (a >= 0 && a < A) ? x[(p * A + a) * Q + q] : (%1$s) 0;
                  }
                }
                """.formatted(CudaTypes.storage(t), CudaTypes.storage(idx));
    }

    /** Adds updates into a zeroed output with atomics; 16-bit types compare-and-swap their enclosing 32-bit word. */
    static String scatterAdd(DType t, DType idx) {
        String add = switch (t) {
            case F32 -> "atomicAdd(dst, v);";
            case F64 -> "atomicAdd(dst, v);";
            case I32 -> "atomicAdd(dst, v);";
            case I64 -> "atomicAdd((unsigned long long*) dst, (unsigned long long) v);";
            case BF16, F16 -> """
                    unsigned int* w = (unsigned int*) ((unsigned long long) dst & ~3ull);
                    unsigned int sh = ((unsigned long long) dst & 2ull) ? 16 : 0;
                    unsigned int old = *w, assumed;
                    do {
                      assumed = old;
                      float f = %s((unsigned short) (assumed >> sh)) + v;
                      unsigned int h = (unsigned int) %s(f);
                      old = atomicCAS(w, assumed, (assumed & ~(0xffffu << sh)) | (h << sh));
                    } while (assumed != old);""".formatted(t == DType.BF16 ? "bf2f" : "h2f", t == DType.BF16 ? "f2bf" : "f2h");
            default -> throw new UnsupportedOperationException("cuda has no scatter-add for " + t.label());
        };
        return CudaTypes.PRELUDE + """
                extern "C" __global__ void k(long long total, long long A, long long J, long long Q, const %1$s* __restrict__ idx,
                                             const %2$s* __restrict__ u, %2$s* __restrict__ y) {
                  for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total; i += (long long) gridDim.x * blockDim.x) {
                    long long q = i %% Q, t = i / Q, j = t %% J, p = t / J;
                    long long a = (long long) idx[j];
                    if (a < 0 || a >= A) continue;
                    %2$s* dst = &y[(p * A + a) * Q + q];
                    %3$s v = %4$s;
                %5$s
                  }
                }
                """.formatted(CudaTypes.storage(idx), CudaTypes.storage(t), CudaTypes.compute(t), CudaTypes.load(t, "u[i]"), add.indent(4));
    }
}
