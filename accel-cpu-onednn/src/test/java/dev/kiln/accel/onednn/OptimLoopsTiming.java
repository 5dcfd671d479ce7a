package dev.kiln.accel.onednn;

import dev.kiln.spi.Kernel;
import dev.kiln.spi.ir.Composite;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Time per Adam update of a 100,352-weight parameter (the seed MLP's 128x784 layer) through the
 * plugin's kernel, whichever loops this JVM chose. Not a test; it compares the two paths:
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp CP dev.kiln.accel.onednn.OptimLoopsTiming   # vector
 *   java -cp CP dev.kiln.accel.onednn.OptimLoopsTiming                                      # scalar
 * </pre>
 */
final class OptimLoopsTiming {
    private OptimLoopsTiming() {}

    public static void main(String[] args) {
        int size = 128 * 784, reps = 2000;
        Kernel adam = JavaOptim.adam(new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0, false), size);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] in = new MemorySegment[6];
            for (int i = 0; i < 4; i++) {
                in[i] = arena.allocate(4L * size, 64);
                for (int j = 0; j < size; j++) in[i].setAtIndex(ValueLayout.JAVA_FLOAT, j, i == 3 ? 1e-4f * (j % 7 + 1) : 0.01f * (j % 13 - 6));
            }
            in[4] = arena.allocate(4);
            in[4].set(ValueLayout.JAVA_FLOAT, 0, 1e-3f);
            in[5] = arena.allocate(4);
            MemorySegment[] out = {in[0], in[2], in[3]}; // in place, as in a training step
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 5; round++) {
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    in[5].set(ValueLayout.JAVA_FLOAT, 0, round * reps + r + 1);
                    adam.run(in, out);
                }
                best = Math.min(best, (System.nanoTime() - t0) / (double) reps);
            }
            System.out.printf("%s: Adam on %d weights %.1f us per update (%.2f ns per weight), best of 5 x %d%n",
                    OptimLoops.description(), size, best / 1e3, best / size, reps);
        }
    }
}
