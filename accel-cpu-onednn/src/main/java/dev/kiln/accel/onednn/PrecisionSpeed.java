package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite.Activation;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * Whether bf16 pays on this CPU, for {@code Precision.auto()}: oneDNN's bf16 matmul (f32 result,
 * what a bf16-mixed layer runs) timed against its f32 matmul on one problem of a training step's
 * size, once per process, on the engine's threads.
 *
 * <p>AVX512_BF16 alone does not make bf16 faster: on an Intel Xeon without AMX, {@code vdpbf16ps}
 * issues at half the rate of {@code vfmadd231ps} for twice the multiplies, so a bf16 GEMM is no
 * faster than f32 and the casts around it make bf16-mixed slower; on an AMD Zen 5 the same
 * instruction makes oneDNN's bf16 GEMM ~2x f32 and bf16-mixed training ~1.5x (bench/bf16.sh).
 * The flag cannot tell these apart; a 5 ms measurement can.
 */
final class PrecisionSpeed {
    private PrecisionSpeed() {}

    /**
     * How much faster bf16's matmul must be for bf16-mixed to be chosen: the casts of weights and
     * activations around each contraction cost ~15% of an fp32 step on the wide MLP, so a smaller
     * gain in the products would not show in the step.
     */
    static final double MIN_SPEEDUP = 1.3;

    private static final int M = 256, K = 1024, N = 1024, RUNS = 7;

    private static volatile Double measured;

    /** The policies fastest first, given bf16's matmul speed over f32's (and whether this CPU has bf16 at all). */
    static List<PrecisionPolicy> rank(boolean bf16, double bf16Speedup) {
        if (!bf16) return List.of(PrecisionPolicy.FP32);
        return bf16Speedup >= MIN_SPEEDUP ? List.of(PrecisionPolicy.BF16_MIXED, PrecisionPolicy.FP32) : List.of(PrecisionPolicy.FP32, PrecisionPolicy.BF16_MIXED);
    }

    /** This CPU's ranking; measures once per process where the CPU has bf16. */
    static List<PrecisionPolicy> fastest(OneDnnEngine e) {
        return CpuFeatures.bf16() ? rank(true, bf16Speedup(e)) : rank(false, 0);
    }

    /** The measured ratio, or NaN before the first measurement. */
    static double measuredSpeedup() {
        Double m = measured;
        return m == null ? Double.NaN : m;
    }

    /** f32 matmul time over bf16 matmul time on [256, 1024] x [1024, 1024], medians of a few runs. */
    static double bf16Speedup(OneDnnEngine e) {
        Double m = measured;
        if (m != null) return m;
        synchronized (PrecisionSpeed.class) {
            if (measured == null) measured = measure(e);
            return measured;
        }
    }

    private static double measure(OneDnnEngine e) {
        TensorType out = TensorType.of(DType.F32, M, N);
        e.enterCreation();
        try (Kernel f32 = OneDnnMatmul.matmul(e, "auto precision probe (f32 matmul)", new Primitive.MatMul(false, false),
                     TensorType.of(DType.F32, M, K), TensorType.of(DType.F32, K, N), out);
             Kernel bf16 = OneDnnMatmul.low(e, "auto precision probe (bf16 matmul)", new FusedOps.LowMatMul(false, false, false, Activation.NONE),
                     TensorType.of(DType.BF16, M, K), TensorType.of(DType.BF16, K, N), null, out)) {
            return median(f32, DType.F32, out) / median(bf16, DType.BF16, out);
        }
    }

    /** Median nanoseconds of a run on zeroed operands (zeros: no denormals to slow either side), after one untimed run. */
    private static double median(Kernel k, DType t, TensorType out) {
        try (HostBuffer a = HostBuffer.allocate(TensorType.of(t, M, K)); HostBuffer b = HostBuffer.allocate(TensorType.of(t, K, N));
             HostBuffer c = HostBuffer.allocate(out)) {
            a.segment().fill((byte) 0);
            b.segment().fill((byte) 0);
            MemorySegment[] in = {a.segment(), b.segment()}, outs = {c.segment()};
            long[] ns = new long[RUNS];
            k.run(in, outs);
            for (int i = 0; i < RUNS; i++) {
                long t0 = System.nanoTime();
                k.run(in, outs);
                ns[i] = System.nanoTime() - t0;
            }
            Arrays.sort(ns);
            return ns[RUNS / 2];
        }
    }
}
