package dev.kiln.accel.cuda;

import dev.kiln.core.DType;

/**
 * Fused (flash) attention as generated CUDA C: the scores never reach global memory. The forward
 * walks key blocks with an online softmax (running row max {@code m}, running sum {@code l},
 * the output accumulator rescaled by {@code exp2(m_old - m_new)}) and writes the output and the
 * row log-sum-exp {@code L = m + log2(l)} (base 2, in units of {@code scale * log2(e)} scores);
 * the backward recomputes the probabilities from L as {@code exp2(s * c - L)}. Key blocks a
 * causal query block cannot see are never visited. The backward is deterministic (no atomics):
 * one kernel per key block accumulates dK and dV over the query blocks, another per query block
 * accumulates dQ over the key blocks, both from {@code delta = rowsum(dO * O)}.
 *
 * <p>Two variants share that algorithm ({@code FlashAttentionAlgorithm} in the tests is its
 * float64 transcription): SIMT kernels for every floating type (f64 computes in double, the others
 * in float) with tiles sized to 48 KiB of static shared memory, and tensor-core kernels for bf16
 * and f16 (Ampere and newer: {@code mma.sync.m16n8k16} with f32 accumulation, probabilities and
 * dS rounded to the operand type for the second product, as FlashAttention-2 does), four warps of
 * 16 query rows each. Head dims up to {@link #MAX_HEAD}; any sequence lengths.
 */
final class FlashAttentionKernels {
    private FlashAttentionKernels() {}

    /** The largest head dim (q/k and v alike) the kernels hold in registers and shared memory. */
    static final int MAX_HEAD = 128;
    /** Static shared memory a kernel may declare without opting in. */
    static final int SHARED_LIMIT = 48 * 1024;
    static final int SIMT_THREADS = 128;
    /** Scores enter the kernels as {@code s * scale * LOG2E}, so the softmax runs on exp2 and log2. */
    static final double LOG2E = 1 / Math.log(2);

    /** Query rows and key rows per block step, and the warps of a block. */
    record Tiles(int br, int bc, int warps) {
        int threads() { return warps * 32; }
    }

    /** Whether the tensor-core kernels run {@code t} on a device of compute capability {@code major}. */
    static boolean tensorCores(DType t, int major) { return (t == DType.BF16 || t == DType.F16) && major >= 8; }

    /** Whether the fused kernels take these head dims. */
    static boolean applies(DType t, int d, int e) {
        return t.isFloating() && d >= 1 && e >= 1 && d <= MAX_HEAD && e <= MAX_HEAD;
    }

    // ---- tile choices --------------------------------------------------------------------------

    private static final int[][] SIMT_TILES = {{32, 32}, {32, 16}, {16, 16}, {16, 8}, {8, 8}};

    /** A padded row stride (in elements) that is odd, so threads walking rows hit distinct banks. */
    static int oddStride(int n) { return (n & 1) == 1 ? n : n + 1; }

    enum Pass { FORWARD, DKDV, DQ }

    /** Shared bytes the SIMT kernel of {@code pass} declares for tiles {@code br x bc}. */
    static long simtShared(Pass pass, DType t, int d, int e, int br, int bc) {
        long ds = oddStride(d), es = oddStride(e), cb = CudaTypes.computeBytes(t);
        long words = switch (pass) {
            case FORWARD -> br * ds + bc * ds + bc * es + br * (bc + 1L) + 3L * br;
            case DKDV -> bc * ds + bc * es + br * ds + br * es + 2L * br * (bc + 1) + 2L * br;
            case DQ -> br * ds + br * es + bc * ds + bc * es + br * (bc + 1L) + 2L * br;
        };
        return words * cb;
    }

    /** The largest SIMT tiles of {@code pass} that fit the static shared memory. */
    static Tiles simtTiles(Pass pass, DType t, int d, int e) {
        for (int[] c : SIMT_TILES) if (simtShared(pass, t, d, e, c[0], c[1]) <= SHARED_LIMIT) return new Tiles(c[0], c[1], SIMT_THREADS / 32);
        throw new IllegalArgumentException("no SIMT attention tiles for " + t + " head dims " + d + ", " + e);
    }

    static int pad16(int n) { return (n + 15) / 16 * 16; }

    /**
     * Tensor-core tiles: the forward takes 64 queries (16 per warp) against 64 keys a step; dQ the
     * same queries against 32 keys when a head dim passes 64 (registers); dK/dV 16 keys per warp
     * against 64 queries a step, or 2 warps and 32 queries when a head dim passes 64 (shared memory).
     */
    static Tiles mmaTiles(Pass pass, int d, int e) {
        boolean wide = Math.max(pad16(d), pad16(e)) > 64;
        return switch (pass) {
            case FORWARD -> new Tiles(64, 64, 4);
            case DQ -> new Tiles(64, wide ? 32 : 64, 4);
            case DKDV -> wide ? new Tiles(32, 32, 2) : new Tiles(64, 64, 4);
        };
    }

    /** Shared bytes of a tensor-core kernel (operand-type tiles with rows padded by 8 elements). */
    static long mmaShared(Pass pass, int d, int e) {
        Tiles t = mmaTiles(pass, d, e);
        long ks = pad16(d) + 8, vs = pad16(e) + 8;
        return switch (pass) {
            case FORWARD -> 2 * (Math.max(t.br(), t.bc()) * ks + t.bc() * vs);
            case DQ -> 2 * (t.br() * (ks + vs));
            case DKDV -> 2 * (t.bc() * (ks + vs) + t.br() * (ks + vs)) + 8L * t.br();
        };
    }

    // ---- sources -------------------------------------------------------------------------------

    private static String header(DType t, int d, int e, Tiles tiles) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + BlockReduce.warpFunctions(c) + """
                typedef %1$s st;
                typedef %2$s ct;
                #define LD(x) %3$s
                #define ST(x) %4$s
                #define EXP2 %5$s
                #define LOG2 %6$s
                #define NEG_INF %7$s
                #define MAXV(a, b) ((a) > (b) ? (a) : (b))
                #define D_ %8$d
                #define E_ %9$d
                #define BR %10$d
                #define BC %11$d
                #define NT %12$d
                """.formatted(CudaTypes.storage(t), c, CudaTypes.load(t, "(x)"), CudaTypes.store(t, "(x)"), CudaTypes.math(t, "exp2"),
                CudaTypes.math(t, "log2"), BlockReduce.lowest(c), d, e, tiles.br(), tiles.bc(), tiles.threads());
    }

    private static String simtHeader(DType t, int d, int e, Tiles tiles) {
        return header(t, d, e, tiles) + "#define DS " + oddStride(d) + "\n#define ES " + oddStride(e) + "\n" + """
                // dst[r][c] = src row r, column c of a [rows, cols] tile (zero past either), in the compute type.
                __device__ __forceinline__ void load_rows(ct* dst, int ld, const st* __restrict__ src, int rows, int cols, int nrows) {
                  for (int i = threadIdx.x; i < nrows * cols; i += NT) {
                    int r = i / cols, c = i - r * cols;
                    dst[r * ld + c] = r < rows ? LD(src[(long long) r * cols + c]) : (ct) 0;
                  }
                }
                """;
    }

    /**
     * SIMT forward, a block per (batch, query block of BR rows), heaviest causal blocks first; each
     * thread owns output elements {@code tid + NT * u} of the [BR, E] accumulator.
     */
    static String simtForward(DType t, int d, int e) {
        Tiles tl = simtTiles(Pass.FORWARD, t, d, e);
        int ou = (tl.br() * e + SIMT_THREADS - 1) / SIMT_THREADS;
        return simtHeader(t, d, e, tl) + "#define OU " + ou + "\n" + """
                extern "C" __global__ void __launch_bounds__(NT) k(int B, int T, int S, double scale2, int causal,
                    const st* __restrict__ q, const st* __restrict__ kk, const st* __restrict__ v, st* __restrict__ o, ct* __restrict__ lse) {
                  __shared__ ct Qs[BR * DS], Ks[BC * DS], Vs[BC * ES], Ps[BR * (BC + 1)], m_s[BR], l_s[BR], a_s[BR];
                  const int tid = threadIdx.x, nqb = (T + BR - 1) / BR;
                  const int b = blockIdx.x / nqb, q0 = (nqb - 1 - (int) (blockIdx.x % nqb)) * BR;
                  const long long qo = (long long) b * T, ko = (long long) b * S;
                  const ct c = (ct) scale2;
                  load_rows(Qs, DS, q + (qo + q0) * D_, T - q0, D_, BR);
                  for (int r = tid; r < BR; r += NT) { m_s[r] = NEG_INF; l_s[r] = (ct) 0; }
                  ct acc[OU];
                  #pragma unroll
                  for (int u = 0; u < OU; u++) acc[u] = (ct) 0;
                  const int kend = causal ? min(S, q0 + BR) : S;
                  for (int k0 = 0; k0 < kend; k0 += BC) {
                    __syncthreads();
                    load_rows(Ks, DS, kk + (ko + k0) * D_, S - k0, D_, BC);
                    load_rows(Vs, ES, v + (ko + k0) * E_, S - k0, E_, BC);
                    __syncthreads();
                    for (int i = tid; i < BR * BC; i += NT) {
                      int r = i / BC, j = i - r * BC;
                      ct s = (ct) 0;
                      #pragma unroll 8
                      for (int x = 0; x < D_; x++) s += Qs[r * DS + x] * Ks[j * DS + x];
                      bool seen = k0 + j < S && (!causal || k0 + j <= q0 + r);
                      Ps[r * (BC + 1) + j] = seen ? s * c : NEG_INF;
                    }
                    __syncthreads();
                    // A warp per row: the new max, the probabilities, the rescale factor and the running sum.
                    for (int r = tid >> 5; r < BR; r += NT / 32) {
                      const int lane = tid & 31;
                      ct mx = NEG_INF;
                      for (int j = lane; j < BC; j += 32) mx = MAXV(mx, Ps[r * (BC + 1) + j]);
                      mx = warp_max(mx);
                      const ct mold = m_s[r], mnew = MAXV(mold, mx);
                      ct sum = (ct) 0;
                      for (int j = lane; j < BC; j += 32) { ct p = EXP2(Ps[r * (BC + 1) + j] - mnew); Ps[r * (BC + 1) + j] = p; sum += p; }
                      sum = warp_sum(sum);
                      if (lane == 0) { ct alpha = EXP2(mold - mnew); a_s[r] = alpha; l_s[r] = l_s[r] * alpha + sum; m_s[r] = mnew; }
                    }
                    __syncthreads();
                    #pragma unroll
                    for (int u = 0; u < OU; u++) {
                      int i = tid + NT * u;
                      if (i < BR * E_) {
                        int r = i / E_, x = i - r * E_;
                        ct a = acc[u] * a_s[r];
                        for (int j = 0; j < BC; j++) a += Ps[r * (BC + 1) + j] * Vs[j * ES + x];
                        acc[u] = a;
                      }
                    }
                  }
                  __syncthreads();
                  #pragma unroll
                  for (int u = 0; u < OU; u++) {
                    int i = tid + NT * u, r = i / E_, x = i - r * E_;
                    if (i < BR * E_ && q0 + r < T) o[(qo + q0 + r) * E_ + x] = ST(acc[u] / l_s[r]);
                  }
                  for (int r = tid; r < BR; r += NT) if (q0 + r < T) lse[qo + q0 + r] = m_s[r] + LOG2(l_s[r]);
                }
                """;
    }

    /** delta[row] = sum over e of dO[row, e] * O[row, e], a warp per row, in the compute type. */
    static String delta(DType t) {
        String c = CudaTypes.compute(t);
        return CudaTypes.PRELUDE + BlockReduce.warpFunctions(c) + """
                extern "C" __global__ void k(long long rows, int E, const %1$s* __restrict__ o, const %1$s* __restrict__ dO, %2$s* __restrict__ delta) {
                  WARP_ROWS(row, rows) {
                    %2$s s = 0;
                    for (int e = lane; e < E; e += 32) s += %3$s * %4$s;
                    s = warp_sum(s);
                    if (lane == 0) delta[row] = s;
                  }
                }
                """.formatted(CudaTypes.storage(t), c, CudaTypes.load(t, "o[row * E + e]"), CudaTypes.load(t, "dO[row * E + e]"));
    }

    /** The probability and dS of one (query r, key j) pair of the SIMT backward, from shared tiles. */
    private static final String SIMT_PDS = """
            __device__ __forceinline__ void p_ds(const ct* Qs, const ct* dOs, const ct* Ks, const ct* Vs, const ct* Ls, const ct* Dl,
                                                 int r, int j, bool seen, ct c, ct* p, ct* ds) {
              if (!seen) { *p = (ct) 0; *ds = (ct) 0; return; }
              ct s = (ct) 0, dp = (ct) 0;
              #pragma unroll 8
              for (int x = 0; x < D_; x++) s += Qs[r * DS + x] * Ks[j * DS + x];
              #pragma unroll 8
              for (int x = 0; x < E_; x++) dp += dOs[r * ES + x] * Vs[j * ES + x];
              ct pv = EXP2(s * c - Ls[r]);
              *p = pv;
              *ds = pv * (dp - Dl[r]);
            }
            """;

    /** SIMT dK and dV: a block per (batch, key block of BC keys), walking the query blocks that can see it. */
    static String simtDkdv(DType t, int d, int e) {
        Tiles tl = simtTiles(Pass.DKDV, t, d, e);
        int ku = (tl.bc() * d + SIMT_THREADS - 1) / SIMT_THREADS, vu = (tl.bc() * e + SIMT_THREADS - 1) / SIMT_THREADS;
        return simtHeader(t, d, e, tl) + "#define KU " + ku + "\n#define VU " + vu + "\n" + SIMT_PDS + """
                extern "C" __global__ void __launch_bounds__(NT) k(int B, int T, int S, double scale2, double scale, int causal,
                    const st* __restrict__ q, const st* __restrict__ kk, const st* __restrict__ v, const st* __restrict__ dO,
                    const ct* __restrict__ lse, const ct* __restrict__ delta, st* __restrict__ dk, st* __restrict__ dv) {
                  __shared__ ct Ks[BC * DS], Vs[BC * ES], Qs[BR * DS], dOs[BR * ES], Ps[BR * (BC + 1)], dSs[BR * (BC + 1)], Ls[BR], Dl[BR];
                  const int tid = threadIdx.x, nkb = (S + BC - 1) / BC;
                  const int b = blockIdx.x / nkb, k0 = (int) (blockIdx.x % nkb) * BC;
                  const long long qo = (long long) b * T, ko = (long long) b * S;
                  const ct c = (ct) scale2;
                  load_rows(Ks, DS, kk + (ko + k0) * D_, S - k0, D_, BC);
                  load_rows(Vs, ES, v + (ko + k0) * E_, S - k0, E_, BC);
                  ct ka[KU], va[VU];
                  #pragma unroll
                  for (int u = 0; u < KU; u++) ka[u] = (ct) 0;
                  #pragma unroll
                  for (int u = 0; u < VU; u++) va[u] = (ct) 0;
                  for (int q0 = causal ? k0 / BR * BR : 0; q0 < T; q0 += BR) {
                    __syncthreads();
                    load_rows(Qs, DS, q + (qo + q0) * D_, T - q0, D_, BR);
                    load_rows(dOs, ES, dO + (qo + q0) * E_, T - q0, E_, BR);
                    for (int r = tid; r < BR; r += NT) { Ls[r] = q0 + r < T ? lse[qo + q0 + r] : (ct) 0; Dl[r] = q0 + r < T ? delta[qo + q0 + r] : (ct) 0; }
                    __syncthreads();
                    for (int i = tid; i < BR * BC; i += NT) {
                      int r = i / BC, j = i - r * BC;
                      bool seen = q0 + r < T && k0 + j < S && (!causal || k0 + j <= q0 + r);
                      p_ds(Qs, dOs, Ks, Vs, Ls, Dl, r, j, seen, c, &Ps[r * (BC + 1) + j], &dSs[r * (BC + 1) + j]);
                    }
                    __syncthreads();
                    #pragma unroll
                    for (int u = 0; u < KU; u++) {
                      int i = tid + NT * u;
                      if (i < BC * D_) {
                        int j = i / D_, x = i - j * D_;
                        ct a = ka[u];
                        for (int r = 0; r < BR; r++) a += dSs[r * (BC + 1) + j] * Qs[r * DS + x];
                        ka[u] = a;
                      }
                    }
                    #pragma unroll
                    for (int u = 0; u < VU; u++) {
                      int i = tid + NT * u;
                      if (i < BC * E_) {
                        int j = i / E_, x = i - j * E_;
                        ct a = va[u];
                        for (int r = 0; r < BR; r++) a += Ps[r * (BC + 1) + j] * dOs[r * ES + x];
                        va[u] = a;
                      }
                    }
                  }
                  #pragma unroll
                  for (int u = 0; u < KU; u++) {
                    int i = tid + NT * u, j = i / D_, x = i - j * D_;
                    if (i < BC * D_ && k0 + j < S) dk[(ko + k0 + j) * D_ + x] = ST(ka[u] * (ct) scale);
                  }
                  #pragma unroll
                  for (int u = 0; u < VU; u++) {
                    int i = tid + NT * u, j = i / E_, x = i - j * E_;
                    if (i < BC * E_ && k0 + j < S) dv[(ko + k0 + j) * E_ + x] = ST(va[u]);
                  }
                }
                """;
    }

    /** SIMT dQ: a block per (batch, query block of BR rows), walking the key blocks it can see. */
    static String simtDq(DType t, int d, int e) {
        Tiles tl = simtTiles(Pass.DQ, t, d, e);
        int qu = (tl.br() * d + SIMT_THREADS - 1) / SIMT_THREADS;
        return simtHeader(t, d, e, tl) + "#define QU " + qu + "\n" + SIMT_PDS + """
                extern "C" __global__ void __launch_bounds__(NT) k(int B, int T, int S, double scale2, double scale, int causal,
                    const st* __restrict__ q, const st* __restrict__ kk, const st* __restrict__ v, const st* __restrict__ dO,
                    const ct* __restrict__ lse, const ct* __restrict__ delta, st* __restrict__ dq) {
                  __shared__ ct Qs[BR * DS], dOs[BR * ES], Ks[BC * DS], Vs[BC * ES], dSs[BR * (BC + 1)], Ls[BR], Dl[BR];
                  const int tid = threadIdx.x, nqb = (T + BR - 1) / BR;
                  const int b = blockIdx.x / nqb, q0 = (nqb - 1 - (int) (blockIdx.x % nqb)) * BR;
                  const long long qo = (long long) b * T, ko = (long long) b * S;
                  const ct c = (ct) scale2;
                  load_rows(Qs, DS, q + (qo + q0) * D_, T - q0, D_, BR);
                  load_rows(dOs, ES, dO + (qo + q0) * E_, T - q0, E_, BR);
                  for (int r = tid; r < BR; r += NT) { Ls[r] = q0 + r < T ? lse[qo + q0 + r] : (ct) 0; Dl[r] = q0 + r < T ? delta[qo + q0 + r] : (ct) 0; }
                  ct qa[QU];
                  #pragma unroll
                  for (int u = 0; u < QU; u++) qa[u] = (ct) 0;
                  const int kend = causal ? min(S, q0 + BR) : S;
                  for (int k0 = 0; k0 < kend; k0 += BC) {
                    __syncthreads();
                    load_rows(Ks, DS, kk + (ko + k0) * D_, S - k0, D_, BC);
                    load_rows(Vs, ES, v + (ko + k0) * E_, S - k0, E_, BC);
                    __syncthreads();
                    for (int i = tid; i < BR * BC; i += NT) {
                      int r = i / BC, j = i - r * BC;
                      bool seen = q0 + r < T && k0 + j < S && (!causal || k0 + j <= q0 + r);
                      ct p;
                      p_ds(Qs, dOs, Ks, Vs, Ls, Dl, r, j, seen, c, &p, &dSs[r * (BC + 1) + j]);
                    }
                    __syncthreads();
                    #pragma unroll
                    for (int u = 0; u < QU; u++) {
                      int i = tid + NT * u;
                      if (i < BR * D_) {
                        int r = i / D_, x = i - r * D_;
                        ct a = qa[u];
                        for (int j = 0; j < BC; j++) a += dSs[r * (BC + 1) + j] * Ks[j * DS + x];
                        qa[u] = a;
                      }
                    }
                  }
                  #pragma unroll
                  for (int u = 0; u < QU; u++) {
                    int i = tid + NT * u, r = i / D_, x = i - r * D_;
                    if (i < BR * D_ && q0 + r < T) dq[(qo + q0 + r) * D_ + x] = ST(qa[u] * (ct) scale);
                  }
                }
                """;
    }

    // ---- tensor-core kernels (bf16, f16) --------------------------------------------------------

    /**
     * The warp-level pieces: {@code mma} is m16n8k16 with f32 accumulators (A row-major, B
     * "col", i.e. stored [n][k]); {@code lds32} reads two adjacent operands as one fragment
     * register; {@code ldsm_t} reads a B fragment of a row-major [k][n] tile transposed
     * ({@code ldmatrix.trans}); {@code pack} rounds two floats to an operand pair (lower index in
     * the low half); {@code load_tile} stages a zero-padded [nrows, ncols] tile, 16 bytes a thread
     * when rows are multiples of 8 elements.
     */
    private static String mmaHeader(DType t, int d, int e, Tiles tiles, boolean vecD, boolean vecE) {
        String ty = t == DType.BF16 ? "bf16" : "f16";
        int dp = pad16(d), ep = pad16(e);
        return header(t, d, e, tiles) + """
                #define NW %1$d
                #define DP %2$d
                #define EP %3$d
                #define KS (DP + 8)
                #define VS (EP + 8)
                #define VEC_D %4$s
                #define VEC_E %5$s
                #define FULL 0xffffffffu
                struct __align__(16) v4 { unsigned x, y, z, w; };
                __device__ __forceinline__ unsigned lds32(const st* p) { return *reinterpret_cast<const unsigned*>(p); }
                __device__ __forceinline__ void mma(float* c, const unsigned* a, unsigned b0, unsigned b1) {
                  asm("mma.sync.aligned.m16n8k16.row.col.f32.%6$s.%6$s.f32 {%%0,%%1,%%2,%%3}, {%%4,%%5,%%6,%%7}, {%%8,%%9}, {%%0,%%1,%%2,%%3};"
                      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
                }
                __device__ __forceinline__ unsigned pack(float lo, float hi) {
                  unsigned r;
                  asm("cvt.rn.%6$sx2.f32 %%0, %%1, %%2;" : "=r"(r) : "f"(hi), "f"(lo));
                  return r;
                }
                __device__ __forceinline__ void ldsm_t(unsigned& b0, unsigned& b1, const st* p) {
                  unsigned a = (unsigned) __cvta_generic_to_shared(p);
                  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%%0,%%1}, [%%2];" : "=r"(b0), "=r"(b1) : "r"(a));
                }
                template <bool VEC> __device__ __forceinline__ void load_tile(st* dst, int ld, const st* __restrict__ src, int rows, int cols, int nrows, int ncols) {
                  if (VEC) {
                    const int per = ncols / 8;
                    for (int i = threadIdx.x; i < nrows * per; i += NW * 32) {
                      int r = i / per, c8 = (i - r * per) * 8;
                      v4 x = {0u, 0u, 0u, 0u};
                      if (r < rows && c8 < cols) x = *reinterpret_cast<const v4*>(src + (long long) r * cols + c8);
                      *reinterpret_cast<v4*>(dst + r * ld + c8) = x;
                    }
                  } else {
                    for (int i = threadIdx.x; i < nrows * ncols; i += NW * 32) {
                      int r = i / ncols, c = i - r * ncols;
                      dst[r * ld + c] = r < rows && c < cols ? src[(long long) r * cols + c] : (st) 0;
                    }
                  }
                }
                // A fragment of rows r..r+15, columns c..c+15 of a row-major tile with stride ld.
                __device__ __forceinline__ void lda(unsigned* a, const st* tile, int ld, int r, int c, int g, int t4) {
                  const st* p = tile + (r + g) * ld + c + 2 * t4;
                  a[0] = lds32(p); a[1] = lds32(p + 8 * ld); a[2] = lds32(p + 8); a[3] = lds32(p + 8 * ld + 8);
                }
                // The A fragment of a [16, 16] slice of accumulators: n-tiles 2kc and 2kc + 1 of s, rounded.
                #define PACK_A(pa, s, kc) unsigned pa[4] = {pack(s[2 * (kc)][0], s[2 * (kc)][1]), pack(s[2 * (kc)][2], s[2 * (kc)][3]), \\
                    pack(s[2 * (kc) + 1][0], s[2 * (kc) + 1][1]), pack(s[2 * (kc) + 1][2], s[2 * (kc) + 1][3])}
                """.formatted(tiles.warps(), dp, ep, vecD ? "true" : "false", vecE ? "true" : "false", ty);
    }

    /** Tensor-core forward: 4 warps of 16 query rows; S, P and the output stay in registers. */
    static String mmaForward(DType t, int d, int e, boolean vecD, boolean vecE) {
        return mmaHeader(t, d, e, mmaTiles(Pass.FORWARD, d, e), vecD, vecE) + """
                extern "C" __global__ void __launch_bounds__(NW * 32) k(int B, int T, int S, double scale2, int causal,
                    const st* __restrict__ q, const st* __restrict__ kk, const st* __restrict__ v, st* __restrict__ o, float* __restrict__ lse) {
                  __shared__ __align__(16) st smem[MAXV(BR, BC) * KS + BC * VS];
                  st* Ks = smem;
                  st* Vs = smem + MAXV(BR, BC) * KS;
                  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t4 = lane & 3;
                  const int nqb = (T + BR - 1) / BR;
                  const int b = blockIdx.x / nqb, q0 = (nqb - 1 - (int) (blockIdx.x % nqb)) * BR;
                  const long long qo = (long long) b * T, ko = (long long) b * S;
                  const float c = (float) scale2;
                  load_tile<VEC_D>(Ks, KS, q + (qo + q0) * D_, T - q0, D_, BR, DP);
                  __syncthreads();
                  const int r0 = warp * 16, row0 = q0 + r0 + g, row1 = row0 + 8;
                  unsigned qf[DP / 16][4];
                  #pragma unroll
                  for (int kc = 0; kc < DP / 16; kc++) lda(qf[kc], Ks, KS, r0, kc * 16, g, t4);
                  float acc[EP / 8][4];
                  #pragma unroll
                  for (int et = 0; et < EP / 8; et++) acc[et][0] = acc[et][1] = acc[et][2] = acc[et][3] = 0.f;
                  float m0 = NEG_INF, m1 = NEG_INF, l0 = 0.f, l1 = 0.f;
                  const int kend = causal ? min(S, q0 + BR) : S;
                  for (int k0 = 0; k0 < kend; k0 += BC) {
                    __syncthreads();
                    load_tile<VEC_D>(Ks, KS, kk + (ko + k0) * D_, S - k0, D_, BC, DP);
                    load_tile<VEC_E>(Vs, VS, v + (ko + k0) * E_, S - k0, E_, BC, EP);
                    __syncthreads();
                    float s[BC / 8][4];
                    #pragma unroll
                    for (int nt = 0; nt < BC / 8; nt++) {
                      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
                      #pragma unroll
                      for (int kc = 0; kc < DP / 16; kc++) {
                        const st* p = Ks + (nt * 8 + g) * KS + kc * 16 + 2 * t4;
                        mma(s[nt], qf[kc], lds32(p), lds32(p + 8));
                      }
                    }
                    float mx0 = NEG_INF, mx1 = NEG_INF;
                    #pragma unroll
                    for (int nt = 0; nt < BC / 8; nt++) {
                      #pragma unroll
                      for (int h = 0; h < 2; h++) {
                        const int col = k0 + nt * 8 + 2 * t4 + h;
                        s[nt][h] = col < S && (!causal || col <= row0) ? s[nt][h] * c : NEG_INF;
                        s[nt][2 + h] = col < S && (!causal || col <= row1) ? s[nt][2 + h] * c : NEG_INF;
                        mx0 = fmaxf(mx0, s[nt][h]);
                        mx1 = fmaxf(mx1, s[nt][2 + h]);
                      }
                    }
                    mx0 = fmaxf(mx0, __shfl_xor_sync(FULL, mx0, 1)); mx0 = fmaxf(mx0, __shfl_xor_sync(FULL, mx0, 2));
                    mx1 = fmaxf(mx1, __shfl_xor_sync(FULL, mx1, 1)); mx1 = fmaxf(mx1, __shfl_xor_sync(FULL, mx1, 2));
                    const float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);
                    const float a0 = exp2f(m0 - mn0), a1 = exp2f(m1 - mn1);
                    float sum0 = 0.f, sum1 = 0.f;
                    #pragma unroll
                    for (int nt = 0; nt < BC / 8; nt++) {
                      #pragma unroll
                      for (int h = 0; h < 2; h++) {
                        s[nt][h] = exp2f(s[nt][h] - mn0); sum0 += s[nt][h];
                        s[nt][2 + h] = exp2f(s[nt][2 + h] - mn1); sum1 += s[nt][2 + h];
                      }
                    }
                    // Each lane keeps its part of the row sums; the quad adds them up at the end.
                    l0 = l0 * a0 + sum0; l1 = l1 * a1 + sum1; m0 = mn0; m1 = mn1;
                    #pragma unroll
                    for (int et = 0; et < EP / 8; et++) { acc[et][0] *= a0; acc[et][1] *= a0; acc[et][2] *= a1; acc[et][3] *= a1; }
                    #pragma unroll
                    for (int kc = 0; kc < BC / 16; kc++) {
                      PACK_A(pa, s, kc);
                      #pragma unroll
                      for (int et = 0; et < EP / 8; et++) {
                        unsigned b0, b1;
                        ldsm_t(b0, b1, Vs + (kc * 16 + (lane & 15)) * VS + et * 8);
                        mma(acc[et], pa, b0, b1);
                      }
                    }
                  }
                  l0 += __shfl_xor_sync(FULL, l0, 1); l0 += __shfl_xor_sync(FULL, l0, 2);
                  l1 += __shfl_xor_sync(FULL, l1, 1); l1 += __shfl_xor_sync(FULL, l1, 2);
                  const float i0 = 1.f / l0, i1 = 1.f / l1;
                  #pragma unroll
                  for (int et = 0; et < EP / 8; et++) {
                    #pragma unroll
                    for (int h = 0; h < 2; h++) {
                      const int col = et * 8 + 2 * t4 + h;
                      if (col < E_ && row0 < T) o[(qo + row0) * E_ + col] = ST(acc[et][h] * i0);
                      if (col < E_ && row1 < T) o[(qo + row1) * E_ + col] = ST(acc[et][2 + h] * i1);
                    }
                  }
                  if (t4 == 0 && row0 < T) lse[qo + row0] = m0 + log2f(l0);
                  if (t4 == 0 && row1 < T) lse[qo + row1] = m1 + log2f(l1);
                }
                """;
    }

    /** Tensor-core dQ: 4 warps of 16 query rows; q and dO fragments stay in registers across the key blocks. */
    static String mmaDq(DType t, int d, int e, boolean vecD, boolean vecE) {
        return mmaHeader(t, d, e, mmaTiles(Pass.DQ, d, e), vecD, vecE) + """
                extern "C" __global__ void __launch_bounds__(NW * 32) k(int B, int T, int S, double scale2, double scale, int causal,
                    const st* __restrict__ q, const st* __restrict__ kk, const st* __restrict__ v, const st* __restrict__ dO,
                    const float* __restrict__ lse, const float* __restrict__ delta, st* __restrict__ dq) {
                  // q and dO are staged here first, then each key block's k and v (BC <= BR rows).
                  __shared__ __align__(16) st smem[BR * (KS + VS)];
                  st* Ks = smem;
                  st* Vs = smem + BC * KS;
                  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t4 = lane & 3;
                  const int nqb = (T + BR - 1) / BR;
                  const int b = blockIdx.x / nqb, q0 = (nqb - 1 - (int) (blockIdx.x % nqb)) * BR;
                  const long long qo = (long long) b * T, ko = (long long) b * S;
                  const float c = (float) scale2;
                  load_tile<VEC_D>(smem, KS, q + (qo + q0) * D_, T - q0, D_, BR, DP);
                  load_tile<VEC_E>(smem + BR * KS, VS, dO + (qo + q0) * E_, T - q0, E_, BR, EP);
                  __syncthreads();
                  const int r0 = warp * 16, row0 = q0 + r0 + g, row1 = row0 + 8;
                  unsigned qf[DP / 16][4], df[EP / 16][4];
                  #pragma unroll
                  for (int kc = 0; kc < DP / 16; kc++) lda(qf[kc], smem, KS, r0, kc * 16, g, t4);
                  #pragma unroll
                  for (int kc = 0; kc < EP / 16; kc++) lda(df[kc], smem + BR * KS, VS, r0, kc * 16, g, t4);
                  const float L0 = row0 < T ? lse[qo + row0] : 0.f, L1 = row1 < T ? lse[qo + row1] : 0.f;
                  const float D0 = row0 < T ? delta[qo + row0] : 0.f, D1 = row1 < T ? delta[qo + row1] : 0.f;
                  float acc[DP / 8][4];
                  #pragma unroll
                  for (int dt = 0; dt < DP / 8; dt++) acc[dt][0] = acc[dt][1] = acc[dt][2] = acc[dt][3] = 0.f;
                  const int kend = causal ? min(S, q0 + BR) : S;
                  for (int k0 = 0; k0 < kend; k0 += BC) {
                    __syncthreads();
                    load_tile<VEC_D>(Ks, KS, kk + (ko + k0) * D_, S - k0, D_, BC, DP);
                    load_tile<VEC_E>(Vs, VS, v + (ko + k0) * E_, S - k0, E_, BC, EP);
                    __syncthreads();
                    float s[BC / 8][4], dp[BC / 8][4];
                    #pragma unroll
                    for (int nt = 0; nt < BC / 8; nt++) {
                      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
                      dp[nt][0] = dp[nt][1] = dp[nt][2] = dp[nt][3] = 0.f;
                      #pragma unroll
                      for (int kc = 0; kc < DP / 16; kc++) {
                        const st* p = Ks + (nt * 8 + g) * KS + kc * 16 + 2 * t4;
                        mma(s[nt], qf[kc], lds32(p), lds32(p + 8));
                      }
                      #pragma unroll
                      for (int kc = 0; kc < EP / 16; kc++) {
                        const st* p = Vs + (nt * 8 + g) * VS + kc * 16 + 2 * t4;
                        mma(dp[nt], df[kc], lds32(p), lds32(p + 8));
                      }
                    }
                    #pragma unroll
                    for (int nt = 0; nt < BC / 8; nt++) {
                      #pragma unroll
                      for (int h = 0; h < 2; h++) {
                        const int col = k0 + nt * 8 + 2 * t4 + h;
                        const float p0 = row0 < T && col < S && (!causal || col <= row0) ? exp2f(s[nt][h] * c - L0) : 0.f;
                        const float p1 = row1 < T && col < S && (!causal || col <= row1) ? exp2f(s[nt][2 + h] * c - L1) : 0.f;
                        s[nt][h] = p0 * (dp[nt][h] - D0);
                        s[nt][2 + h] = p1 * (dp[nt][2 + h] - D1);
                      }
                    }
                    #pragma unroll
                    for (int kc = 0; kc < BC / 16; kc++) {
                      PACK_A(pa, s, kc);
                      #pragma unroll
                      for (int dt = 0; dt < DP / 8; dt++) {
                        unsigned b0, b1;
                        ldsm_t(b0, b1, Ks + (kc * 16 + (lane & 15)) * KS + dt * 8);
                        mma(acc[dt], pa, b0, b1);
                      }
                    }
                  }
                  #pragma unroll
                  for (int dt = 0; dt < DP / 8; dt++) {
                    #pragma unroll
                    for (int h = 0; h < 2; h++) {
                      const int col = dt * 8 + 2 * t4 + h;
                      if (col < D_ && row0 < T) dq[(qo + row0) * D_ + col] = ST(acc[dt][h] * (float) scale);
                      if (col < D_ && row1 < T) dq[(qo + row1) * D_ + col] = ST(acc[dt][2 + h] * (float) scale);
                    }
                  }
                }
                """;
    }

    /**
     * Tensor-core dK and dV: warps of 16 keys; per query block S^T and dP^T come out of the
     * products with keys as rows, so P^T and dS^T feed the next products as A fragments directly.
     */
    static String mmaDkdv(DType t, int d, int e, boolean vecD, boolean vecE) {
        return mmaHeader(t, d, e, mmaTiles(Pass.DKDV, d, e), vecD, vecE) + """
                extern "C" __global__ void __launch_bounds__(NW * 32) k(int B, int T, int S, double scale2, double scale, int causal,
                    const st* __restrict__ q, const st* __restrict__ kk, const st* __restrict__ v, const st* __restrict__ dO,
                    const float* __restrict__ lse, const float* __restrict__ delta, st* __restrict__ dk, st* __restrict__ dv) {
                  __shared__ __align__(16) st Ks[BC * KS];
                  __shared__ __align__(16) st Vs[BC * VS];
                  __shared__ __align__(16) st Qs[BR * KS];
                  __shared__ __align__(16) st dOs[BR * VS];
                  __shared__ float Ls[BR], Dl[BR];
                  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t4 = lane & 3;
                  const int nkb = (S + BC - 1) / BC;
                  const int b = blockIdx.x / nkb, k0 = (int) (blockIdx.x % nkb) * BC;
                  const long long qo = (long long) b * T, ko = (long long) b * S;
                  const float c = (float) scale2;
                  load_tile<VEC_D>(Ks, KS, kk + (ko + k0) * D_, S - k0, D_, BC, DP);
                  load_tile<VEC_E>(Vs, VS, v + (ko + k0) * E_, S - k0, E_, BC, EP);
                  const int r0 = warp * 16, key0 = k0 + r0 + g, key1 = key0 + 8;
                  float ka[DP / 8][4], va[EP / 8][4];
                  #pragma unroll
                  for (int dt = 0; dt < DP / 8; dt++) ka[dt][0] = ka[dt][1] = ka[dt][2] = ka[dt][3] = 0.f;
                  #pragma unroll
                  for (int et = 0; et < EP / 8; et++) va[et][0] = va[et][1] = va[et][2] = va[et][3] = 0.f;
                  for (int q0 = causal ? k0 / BR * BR : 0; q0 < T; q0 += BR) {
                    __syncthreads();
                    load_tile<VEC_D>(Qs, KS, q + (qo + q0) * D_, T - q0, D_, BR, DP);
                    load_tile<VEC_E>(dOs, VS, dO + (qo + q0) * E_, T - q0, E_, BR, EP);
                    for (int r = tid; r < BR; r += NW * 32) { Ls[r] = q0 + r < T ? lse[qo + q0 + r] : 0.f; Dl[r] = q0 + r < T ? delta[qo + q0 + r] : 0.f; }
                    __syncthreads();
                    float s[BR / 8][4], dp[BR / 8][4];
                    #pragma unroll
                    for (int nt = 0; nt < BR / 8; nt++) {
                      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
                      dp[nt][0] = dp[nt][1] = dp[nt][2] = dp[nt][3] = 0.f;
                    }
                    #pragma unroll
                    for (int kc = 0; kc < DP / 16; kc++) {
                      unsigned a[4];
                      lda(a, Ks, KS, r0, kc * 16, g, t4);
                      #pragma unroll
                      for (int nt = 0; nt < BR / 8; nt++) {
                        const st* p = Qs + (nt * 8 + g) * KS + kc * 16 + 2 * t4;
                        mma(s[nt], a, lds32(p), lds32(p + 8));
                      }
                    }
                    #pragma unroll
                    for (int kc = 0; kc < EP / 16; kc++) {
                      unsigned a[4];
                      lda(a, Vs, VS, r0, kc * 16, g, t4);
                      #pragma unroll
                      for (int nt = 0; nt < BR / 8; nt++) {
                        const st* p = dOs + (nt * 8 + g) * VS + kc * 16 + 2 * t4;
                        mma(dp[nt], a, lds32(p), lds32(p + 8));
                      }
                    }
                    #pragma unroll
                    for (int nt = 0; nt < BR / 8; nt++) {
                      #pragma unroll
                      for (int h = 0; h < 2; h++) {
                        const int qi = nt * 8 + 2 * t4 + h, row = q0 + qi;
                        const float p0 = row < T && key0 < S && (!causal || key0 <= row) ? exp2f(s[nt][h] * c - Ls[qi]) : 0.f;
                        const float p1 = row < T && key1 < S && (!causal || key1 <= row) ? exp2f(s[nt][2 + h] * c - Ls[qi]) : 0.f;
                        dp[nt][h] = p0 * (dp[nt][h] - Dl[qi]);
                        dp[nt][2 + h] = p1 * (dp[nt][2 + h] - Dl[qi]);
                        s[nt][h] = p0;
                        s[nt][2 + h] = p1;
                      }
                    }
                    #pragma unroll
                    for (int kc = 0; kc < BR / 16; kc++) {
                      PACK_A(pa, s, kc);
                      #pragma unroll
                      for (int et = 0; et < EP / 8; et++) {
                        unsigned b0, b1;
                        ldsm_t(b0, b1, dOs + (kc * 16 + (lane & 15)) * VS + et * 8);
                        mma(va[et], pa, b0, b1);
                      }
                      PACK_A(pd, dp, kc);
                      #pragma unroll
                      for (int dt = 0; dt < DP / 8; dt++) {
                        unsigned b0, b1;
                        ldsm_t(b0, b1, Qs + (kc * 16 + (lane & 15)) * KS + dt * 8);
                        mma(ka[dt], pd, b0, b1);
                      }
                    }
                  }
                  #pragma unroll
                  for (int dt = 0; dt < DP / 8; dt++) {
                    #pragma unroll
                    for (int h = 0; h < 2; h++) {
                      const int col = dt * 8 + 2 * t4 + h;
                      if (col < D_ && key0 < S) dk[(ko + key0) * D_ + col] = ST(ka[dt][h] * (float) scale);
                      if (col < D_ && key1 < S) dk[(ko + key1) * D_ + col] = ST(ka[dt][2 + h] * (float) scale);
                    }
                  }
                  #pragma unroll
                  for (int et = 0; et < EP / 8; et++) {
                    #pragma unroll
                    for (int h = 0; h < 2; h++) {
                      const int col = et * 8 + 2 * t4 + h;
                      if (col < E_ && key0 < S) dv[(ko + key0) * E_ + col] = ST(va[et][h]);
                      if (col < E_ && key1 < S) dv[(ko + key1) * E_ + col] = ST(va[et][2 + h]);
                    }
                  }
                }
                """;
    }
}
