package dev.kiln.accel.onednn;

import java.lang.foreign.MemorySegment;

/**
 * Where one call of the int8 kernel spends its time (KILN_INT8_TIME=1 with
 * OneDnnQuantizedLinearTest): the whole kernel, then its scan and rounding passes alone.
 * A diagnostic print, never an assertion; the machine may be shared.
 */
final class Int8Timing {
    private Int8Timing() {}

    static void print(OneDnnQuantizedLinear k, MemorySegment[] ins, MemorySegment y, int n, int in, int o) {
        Int8Loops loops = Int8Loops.chosen();
        long count = (long) n * in;
        MemorySegment q = java.lang.foreign.Arena.ofAuto().allocate(count);
        for (int rep = 0; rep < 5; rep++) {
            int iters = Math.max(100, (int) (2e9 / (2.0 * n * in * o + 1)));
            long t0 = System.nanoTime();
            for (int it = 0; it < iters; it++) k.run(ins, new MemorySegment[] {y});
            long t1 = System.nanoTime();
            float m = 0;
            for (int it = 0; it < iters; it++) m += loops.signedAbsMax(ins[0], count);
            long t2 = System.nanoTime();
            float scale = Math.max(Math.abs(m / iters), Float.MIN_NORMAL) / 127;
            for (int it = 0; it < iters; it++) loops.quantize(ins[0], count, scale, q);
            long t3 = System.nanoTime();
            OneDnnInt8Matmul mm = k.made(false) != null ? k.made(false) : k.made(true);
            System.out.printf("%dx%dx%d: kernel %.1f us/run, of which scan %.1f us, rounding %.1f us (%s); matmul %s%n",
                    n, in, o, (t1 - t0) / 1e3 / iters, (t2 - t1) / 1e3 / iters, (t3 - t2) / 1e3 / iters, loops.getClass().getSimpleName(), mm.threadTimes());
        }
    }
}
