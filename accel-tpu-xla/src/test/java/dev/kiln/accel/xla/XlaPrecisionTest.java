package dev.kiln.accel.xla;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.core.DType;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.runtime.exec.Autocast;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Primitive;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** bf16-mixed on xla: the runtime's autocast gives XLA bf16 contractions with f32 results, which it runs in bf16. */
class XlaPrecisionTest {
    @Test void bf16MixedMatmulIsRoundedToBf16AndCloseToTheFloat64Product() {
        XlaProvider provider = new XlaProvider();
        Availability a = provider.probe();
        assumeTrue(a.available(), a::reason);
        int m = 16, k = 64, n = 8;
        Random rnd = new Random(3);
        float[] x = new float[m * k], w = new float[k * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        Graph.Builder b = Graph.builder();
        Value xv = b.input(TensorType.of(DType.F32, m, k)), wv = b.input(TensorType.of(DType.F32, k, n));
        Graph g = b.build(List.of(b.apply1(new Primitive.MatMul(false, false), xv, wv)));
        try (Accelerator acc = provider.open(new AcceleratorConfig(0, 0))) {
            assertTrue(acc.capabilities().precisions().contains(PrecisionPolicy.BF16_MIXED));
            float[] fp32 = run(acc, g, x, w, m * n);
            float[] mixed = run(acc, Autocast.apply(g, PrecisionPolicy.BF16_MIXED), x, w, m * n);
            double maxErr = 0, scale = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double ref = 0;
                    for (int p = 0; p < k; p++) ref += (double) x[i * k + p] * w[p * n + j];
                    maxErr = Math.max(maxErr, Math.abs(mixed[i * n + j] - ref));
                    scale = Math.max(scale, Math.abs(ref));
                }
            }
            // bf16 keeps 8 significant bits: operands rounded (2^-9 relative each) over k = 64 terms, then the result rounded.
            assertTrue(maxErr <= 0.02 * scale, "bf16-mixed max error " + maxErr + " against a scale of " + scale);
            assertFalse(Arrays.equals(fp32, mixed), "bf16-mixed gave exactly the fp32 product: no bf16 ran");
            for (float f : mixed) assertTrue(Float.floatToRawIntBits(f) << 16 == 0, "a bf16 result widened to f32 has 16 zero low bits: " + f);
        }
    }

    private static float[] run(Accelerator acc, Graph g, float[] x, float[] w, int outSize) {
        try (Executable e = acc.compile(g, CompileOptions.defaults());
             Buffer xb = acc.upload(g.inputs().get(0).type(), MemorySegment.ofArray(x));
             Buffer wb = acc.upload(g.inputs().get(1).type(), MemorySegment.ofArray(w))) {
            List<Buffer> out = e.run(List.of(xb, wb));
            float[] host = new float[outSize];
            acc.download(out.getFirst(), MemorySegment.ofArray(host));
            out.forEach(Buffer::close);
            return host;
        }
    }
}
