package dev.kiln.accel.onednn;

import static org.bytedeco.dnnl.global.dnnl.dnnl_sgemm;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Generates oneDNN's JIT sgemm kernels on a daemon thread when the first accelerator opens.
 *
 * <p>oneDNN generates all of its JIT sgemm's kernels the first time any f32 product runs on that
 * implementation: 65 ms on an AMD EPYC (Zen 5), after which a new product on it runs its first
 * call in ~2 ms. The tuner picks that implementation for the small products oneDNN's AVX-512
 * brgemm declines (the seed MLP's weight gradients, {@link OneDnnTuner}), so without this the
 * 65 ms fell inside the first training step. Generating them while the program builds its model
 * and traces its first step moves that cost to the other core. The generation runs once per
 * process (oneDNN guards it), so a step that needs the kernels first simply waits for them.
 */
final class JitGemmWarmup {
    private JitGemmWarmup() {}

    private static final AtomicBoolean STARTED = new AtomicBoolean();

    /** Starts the generation once per process; never fails (a failure leaves it to the first product). */
    static void start() { Background.once(STARTED, "kiln-onednn-sgemm-warmup", JitGemmWarmup::run); }

    private static void run() {
        try {
            OneDnnNative.setThreads(1); // a new thread would otherwise fork OpenMP's workers for a 16x16 product
            int n = 16;
            float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
            dnnl_sgemm((byte) 'N', (byte) 'N', n, n, n, 1f, a, n, b, n, 0f, c, n);
        } catch (RuntimeException | LinkageError e) {
            // The first product that needs the kernels generates them.
        }
    }
}
