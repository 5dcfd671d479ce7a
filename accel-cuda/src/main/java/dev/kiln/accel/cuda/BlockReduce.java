package dev.kiln.accel.cuda;

/**
 * Device functions reducing one value per thread across a block (power-of-two size, at most
 * 256) through shared memory, in a fixed order so results are deterministic run to run.
 */
final class BlockReduce {
    private BlockReduce() {}

    /** Defines {@code block_sum(v, buf)} and {@code block_max(v, buf)} for compute type {@code c}. */
    static String functions(String c) {
        return """
                __device__ %1$s block_sum(%1$s v, %1$s* buf) {
                  buf[threadIdx.x] = v; __syncthreads();
                  for (int s = blockDim.x / 2; s > 0; s >>= 1) { if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s]; __syncthreads(); }
                  %1$s r = buf[0]; __syncthreads();
                  return r;
                }
                __device__ %1$s block_max(%1$s v, %1$s* buf) {
                  buf[threadIdx.x] = v; __syncthreads();
                  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
                    if (threadIdx.x < s && buf[threadIdx.x + s] > buf[threadIdx.x]) buf[threadIdx.x] = buf[threadIdx.x + s];
                    __syncthreads();
                  }
                  %1$s r = buf[0]; __syncthreads();
                  return r;
                }
                """.formatted(c);
    }

    /**
     * Defines {@code warp_sum(v)} and {@code warp_max(v)} (butterfly shuffles, every lane gets the
     * result) and {@code WARP_ROWS(row, rows)}, the loop header of a warp-per-row kernel: each warp
     * takes rows grid-stride, and {@code lane} is the thread's place in its warp.
     */
    static String warpFunctions(String c) {
        return """
                #define WARP_ROWS(row, rows) const unsigned int lane = threadIdx.x & 31; const long long warp_stride = (long long) gridDim.x * (blockDim.x >> 5); for (long long row = blockIdx.x * (long long) (blockDim.x >> 5) + (threadIdx.x >> 5); row < (rows); row += warp_stride)
                __device__ __forceinline__ %1$s warp_sum(%1$s v) {
                  for (int s = 16; s > 0; s >>= 1) v += __shfl_xor_sync(0xffffffffu, v, s);
                  return v;
                }
                __device__ __forceinline__ %1$s warp_max(%1$s v) {
                  for (int s = 16; s > 0; s >>= 1) { %1$s o = __shfl_xor_sync(0xffffffffu, v, s); if (o > v) v = o; }
                  return v;
                }
                """.formatted(c);
    }

    /** The lowest value of a compute type, the identity of max. */
    static String lowest(String c) {
        return switch (c) {
            case "float" -> "(-__int_as_float(0x7f800000))";
            case "double" -> "(-__longlong_as_double(0x7ff0000000000000ll))";
            case "long long" -> "(-9223372036854775807ll - 1)";
            default -> "(-2147483647 - 1)";
        };
    }

    /** Registers per lane to hold a row of {@code len} in one warp (a power of two up to 32), or 0 when the row is too long. */
    static int perLane(long len) {
        for (int p = 1; p <= 32; p <<= 1) if (32L * p >= len) return p;
        return 0;
    }

    /** Blocks of 256 threads (8 warps) for a warp-per-row kernel over {@code rows}: enough for every row, at most 32 per multiprocessor. */
    static int warpGrid(long rows, int multiprocessors) { return (int) Math.max(1, Math.min((rows + 7) / 8, (long) multiprocessors * 32)); }

    /** Threads per block for {@code n} terms: a power of two from 32 to 256. */
    static int threads(long n) {
        int t = 32;
        while (t < 256 && t < n) t <<= 1;
        return t;
    }
}
