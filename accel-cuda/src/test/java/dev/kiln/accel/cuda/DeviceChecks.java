package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.spi.Buffer;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Value;
import dev.kiln.tck.HostData;
import dev.kiln.tck.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;

/** What the device tests share: the skip with its reason and the command, and a graph's outputs against the float64 reference. */
final class DeviceChecks {
    private DeviceChecks() {}

    /** How to run the device tests where there is a GPU. */
    static final String HOW = "on a GPU machine: accel-cuda/gpu/pack.sh here, then accel-cuda/gpu/run.sh there (see accel-cuda/README.md)";

    /**
     * An accelerator on the first GPU, or null where there is none. Device tests open it once
     * ({@code @BeforeAll}) and call {@link #assumeOpen} per test ({@code @BeforeEach}), so each
     * test is reported skipped with the reason, where a class-level skip shows nothing.
     */
    static CudaAccelerator openOrNull() {
        return new CudaProvider().probe().available() ? (CudaAccelerator) new CudaProvider().open(dev.kiln.spi.AcceleratorConfig.defaults()) : null;
    }

    static void assumeOpen(CudaAccelerator acc) {
        Assumptions.assumeTrue(acc != null, () -> "cuda is not available here (" + new CudaProvider().probe().reason() + "); run " + HOW);
    }

    /** Uniform inputs in [-1, 1) rounded to each input's type. */
    static List<double[]> inputs(Graph g, Random r) {
        List<double[]> data = new ArrayList<>();
        for (Value v : g.inputs()) {
            double[] d = new double[Math.toIntExact(v.type().shape().size())];
            for (int i = 0; i < d.length; i++) d[i] = r.nextDouble() * 2 - 1;
            data.add(HostData.roundTrip(d, v.type()));
        }
        return data;
    }

    /** Runs {@code exe} on random inputs and checks every output within {@code rtol} of the largest reference magnitude (at least 1). */
    static void check(CudaAccelerator acc, Graph g, Executable exe, Random r, double rtol) {
        List<double[]> data = inputs(g, r);
        List<Buffer> in = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) in.add(HostData.upload(acc, g.inputs().get(i).type(), data.get(i)));
        List<double[]> want = Reference.run(g, data);
        List<Buffer> out = exe.run(in);
        try {
            for (int i = 0; i < out.size(); i++) {
                double[] got = HostData.download(acc, out.get(i)), w = want.get(i);
                double scale = 1;
                for (double v : w) scale = Math.max(scale, Math.abs(v));
                for (int j = 0; j < w.length; j++) {
                    double err = Math.abs(got[j] - w[j]);
                    assertTrue(err <= rtol * scale, "output " + i + "[" + j + "] " + got[j] + " vs " + w[j] + " (" + g.outputs().get(i).type() + ", tolerance " + rtol * scale + ")");
                }
            }
        } finally {
            in.forEach(Buffer::close);
            out.forEach(Buffer::close);
        }
    }
}
