/*
 * Peak multiply-accumulate rate of one AVX-512 instruction per precision, on 1 and 2 threads:
 * vfmadd231ps (f32, 16 lanes), vdpbf16ps (bf16 pairs into f32, AVX512_BF16) and vfmadd231ph
 * (f16, 32 lanes, AVX512_FP16). Twelve independent accumulators hide the latency, so the loop
 * is bound by issue throughput alone: the ceiling any GEMM kernel built on that instruction has.
 * Why it is here: it is the measured reason bf16-mixed cannot beat fp32 by 1.4x on a CPU that
 * has AVX512_BF16 but no AMX (issue 3); see bench/README.md.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ITERATIONS 100000000L /* per thread, 12 instructions each */

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile float sink;

/* One body for every precision: TYPE accumulators, STEP(acc) one multiply-accumulate into acc. */
#define KERNEL(name, TYPE, INIT, STEP, SUM)                                             \
    static void *name(void *unused) {                                                   \
        (void) unused;                                                                  \
        TYPE a0 = INIT, a1 = INIT, a2 = INIT, a3 = INIT, a4 = INIT, a5 = INIT;          \
        TYPE a6 = INIT, a7 = INIT, a8 = INIT, a9 = INIT, a10 = INIT, a11 = INIT;        \
        for (long i = 0; i < ITERATIONS; i++) {                                         \
            a0 = STEP(a0); a1 = STEP(a1); a2 = STEP(a2); a3 = STEP(a3);                 \
            a4 = STEP(a4); a5 = STEP(a5); a6 = STEP(a6); a7 = STEP(a7);                 \
            a8 = STEP(a8); a9 = STEP(a9); a10 = STEP(a10); a11 = STEP(a11);             \
        }                                                                               \
        sink = SUM(a0) + SUM(a1) + SUM(a2) + SUM(a3) + SUM(a4) + SUM(a5) + SUM(a6)      \
             + SUM(a7) + SUM(a8) + SUM(a9) + SUM(a10) + SUM(a11);                       \
        return 0;                                                                       \
    }

#define F32_STEP(acc) _mm512_fmadd_ps(_mm512_set1_ps(1.0001f), _mm512_set1_ps(0.9999f), acc)
KERNEL(f32_fma, __m512, _mm512_setzero_ps(), F32_STEP, _mm512_reduce_add_ps)

#ifdef __AVX512BF16__
#define BF16_ONE ((__m512bh) _mm512_set1_epi16(0x3f80))
#define BF16_STEP(acc) _mm512_dpbf16_ps(acc, BF16_ONE, BF16_ONE)
KERNEL(bf16_dot, __m512, _mm512_setzero_ps(), BF16_STEP, _mm512_reduce_add_ps)
#endif

#ifdef __AVX512FP16__
#define F16_STEP(acc) _mm512_fmadd_ph(_mm512_set1_ph(1.0f), _mm512_set1_ph(0.0f), acc)
#define F16_SUM(acc) ((float) _mm512_reduce_add_ph(acc))
KERNEL(f16_fma, __m512h, _mm512_set1_ph(1.0f), F16_STEP, F16_SUM)
#endif

/* FLOPs per instruction: a multiply and an add per product. */
static double run(void *(*kernel)(void *), int threads, double flops_per_instruction) {
    pthread_t t[2];
    double start = seconds();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], 0, kernel, 0);
    for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
    return threads * ITERATIONS * 12.0 * flops_per_instruction / (seconds() - start) / 1e9;
}

/*
 * Runs kernel on 1 and 2 threads and prints both rates; with a ratio label, also its 1-thread rate
 * over f32's. Returns the 1-thread rate.
 */
static double report(const char *name, void *(*kernel)(void *), double flops_per_instruction,
                     const char *ratio, double f32, const char *note) {
    double one = run(kernel, 1, flops_per_instruction), two = run(kernel, 2, flops_per_instruction);
    printf("%-34s %9.1f GF/s %9.1f GF/s", name, one, two);
    if (ratio) printf("   %s = %.2f%s", ratio, one / f32, note);
    printf("\n");
    return one;
}

int main(void) {
    printf("%-34s %14s %14s\n", "instruction", "1 thread", "2 threads");
    double f32 = report("vfmadd231ps zmm (f32)", f32_fma, 32, 0, 0, "");
#ifdef __AVX512BF16__
    report("vdpbf16ps zmm (bf16 -> f32)", bf16_dot, 64, "bf16/f32", f32, "");
#else
    printf("%-34s %14s\n", "vdpbf16ps zmm (bf16 -> f32)", "no AVX512_BF16");
#endif
#ifdef __AVX512FP16__
    report("vfmadd231ph zmm (f16)", f16_fma, 64, "f16/f32", f32, " (f16 accumulation)");
#else
    printf("%-34s %14s\n", "vfmadd231ph zmm (f16)", "no AVX512_FP16");
#endif
    return 0;
}
