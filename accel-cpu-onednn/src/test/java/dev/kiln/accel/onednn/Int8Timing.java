package dev.kiln.accel.onednn;

import dev.kiln.spi.HostBuffer;
import dev.kiln.spi.ir.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Where one call of the int8 kernel spends its time (KILN_INT8_TIME=1 with
 * OneDnnQuantizedLinearTest): the whole kernel on writable weights (read in place) and on
 * constant ones (packed once), then its scan and rounding passes alone, and the matmul's smoothed
 * times on one thread and on the engine's. A diagnostic print, never an assertion; the machine
 * may be shared.
 */
final class Int8Timing {
    private Int8Timing() {}

    static void print(OneDnnQuantizedLinear k, MemorySegment[] ins, MemorySegment y, TensorType weights, int n, int in, int o) {
        Int8Loops loops = Int8Loops.chosen();
        long count = (long) n * in;
        MemorySegment q = Arena.ofAuto().allocate(count);
        MemorySegment[] out = {y}, constant = ins.clone();
        HostBuffer w = HostBuffer.constant(weights, ins[1], Arena.ofAuto());
        constant[1] = w.segment();
        int iters = Math.max(100, (int) (2e9 / (2.0 * n * in * o + 1)));
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            for (int it = 0; it < iters; it++) k.run(ins, out);
            long t1 = System.nanoTime();
            for (int it = 0; it < iters; it++) k.run(constant, out);
            long t2 = System.nanoTime();
            float m = 0;
            for (int it = 0; it < iters; it++) m += loops.signedAbsMax(ins[0], count);
            long t3 = System.nanoTime();
            float scale = Math.max(Math.abs(m / iters), Float.MIN_NORMAL) / 127;
            for (int it = 0; it < iters; it++) loops.quantize(ins[0], count, scale, q);
            long t4 = System.nanoTime();
            OneDnnInt8Matmul mm = k.made(false) != null ? k.made(false) : k.made(true);
            System.out.printf("%dx%dx%d: kernel %.1f us/run on writable weights, %.1f us on constant ones; scan %.1f us, rounding %.1f us (%s); matmul %s%n",
                    n, in, o, (t1 - t0) / 1e3 / iters, (t2 - t1) / 1e3 / iters, (t3 - t2) / 1e3 / iters, (t4 - t3) / 1e3 / iters,
                    loops.getClass().getSimpleName(), mm.threadTimes());
        }
        w.close();
    }
}
