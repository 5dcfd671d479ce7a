package dev.kiln.accel.onednn;

import dev.kiln.core.DType;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * A few in-place Adam and SGD steps through the whole plugin, reduced to a digest of the result
 * bits. {@link OptimLoopsTest} runs it in its own JVM (vector loops) and, through
 * {@link #main}, in a child JVM started without {@code jdk.incubator.vector} (scalar loops).
 */
final class OptimizerBits {
    /** Not a multiple of any vector length, so the scalar tail of the vector loops runs too. */
    static final int SIZE = 3 * JavaOptim.CHUNK + 45;

    private OptimizerBits() {}

    public static void main(String[] args) {
        System.out.println("VECTOR_MODULE " + ModuleLayer.boot().findModule(OptimLoops.VECTOR_MODULE).isPresent());
        System.out.println("REASON " + new OneDnnProvider().probe().reason());
        System.out.println("BITS " + digest());
    }

    static String digest() {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        List<Composite> ops = List.of(
                new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0, false),
                new Composite.AdamUpdate(0.9, 0.999, 1e-8, 0.01, false),
                new Composite.AdamUpdate(0.8, 0.99, 1e-6, 0.05, true),
                new Composite.SgdUpdate(0.9, true, 0.01),
                new Composite.SgdUpdate(0.9, false, 0),
                new Composite.SgdUpdate(0, false, 0.001));
        try (Accelerator acc = new OneDnnProvider().open(AcceleratorConfig.defaults())) {
            for (Composite op : ops) {
                for (float[] result : steps(acc, op)) {
                    for (float f : result) {
                        int bits = Float.floatToRawIntBits(f);
                        sha.update(new byte[] {(byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), (byte) (bits >> 24)});
                    }
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Parameter and state after ten steps of {@code op}, state updated in place as a training step does. */
    static List<float[]> steps(Accelerator acc, Composite op) {
        boolean adam = op instanceof Composite.AdamUpdate;
        TensorType vec = TensorType.of(DType.F32, SIZE), scalar = TensorType.of(DType.F32);
        int tensors = adam ? 4 : 3;
        Graph.Builder b = Graph.builder();
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < tensors; i++) in.add(b.input(vec));
        in.add(b.input(scalar));
        if (adam) in.add(b.input(scalar));
        Graph g = b.build(b.apply(op, in));
        Random random = new Random(7);
        List<Buffer> state = new ArrayList<>();
        for (int i = 0; i < tensors; i++) {
            float[] x = new float[SIZE];
            for (int j = 0; j < SIZE; j++) {
                // Gradients of exact zero (a black pixel) drive the moments to the flush-to-zero threshold.
                x[j] = i == 1 && j % 17 == 0 ? 0 : i >= 2 ? (float) Math.abs(random.nextGaussian() * 1e-3) : (float) random.nextGaussian();
            }
            state.add(acc.upload(vec, MemorySegment.ofArray(x)));
        }
        List<float[]> out = new ArrayList<>();
        try (Executable exe = acc.compile(g, CompileOptions.defaults())) {
            for (int step = 1; step <= 10; step++) {
                List<Buffer> inputs = new ArrayList<>(state);
                Buffer lr = acc.upload(scalar, MemorySegment.ofArray(new float[] {0.01f}));
                inputs.add(lr);
                Buffer t = adam ? acc.upload(scalar, MemorySegment.ofArray(new float[] {step})) : null;
                if (t != null) inputs.add(t);
                // Outputs param', state' land in the parameter and state buffers (the gradient is input 1 and stays).
                List<Buffer> outputs = new ArrayList<>(state);
                outputs.remove(1);
                exe.run(inputs, outputs);
                lr.close();
                if (t != null) t.close();
            }
            for (Buffer s : state) {
                float[] x = new float[SIZE];
                acc.download(s, MemorySegment.ofArray(x));
                out.add(x);
            }
        } finally {
            state.forEach(Buffer::close);
        }
        return out;
    }
}
