package dev.kiln.api.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * Reading the fixtures under {@code resources/parity}, written by {@code bn_mha_fixtures.py} with
 * PyTorch 1.13, and comparing Kiln's float32 results with them.
 */
final class TorchParity {
    /**
     * Float32 rounding: Kiln and PyTorch sum in different orders, so results agree to a few ulps
     * of the largest value involved, not elementwise to a few ulps of each.
     */
    static final double TOLERANCE = 1e-5;

    private TorchParity() {}

    static Path resource(String name) {
        try {
            return Path.of(TorchParity.class.getResource("/parity/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("fixture " + name + " is missing; run bn_mha_fixtures.py", e);
        }
    }

    static SafeTensorsFile read(String name) { return SafeTensorsFile.read(resource(name)); }

    static Tensor tensor(Kiln kiln, SafeTensorsFile f, String name) {
        StoredTensor t = f.tensor(name, null);
        return kiln.tensor(t.toFloats(), t.kilnShape().dims());
    }

    /** Asserts the largest |kiln - torch| is within {@link #TOLERANCE} of the largest |torch|. */
    static void assertClose(String what, StoredTensor expected, Tensor got) {
        assertTrue(expected.hasShape(got.shape()), what + ": PyTorch's is " + expected + ", Kiln's " + got.shape());
        float[] want = expected.toFloats(), have = got.toFloatArray();
        double scale = 0, diff = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - have[i]));
        double relative = diff / Math.max(scale, Float.MIN_NORMAL);
        assertTrue(relative <= TOLERANCE, what + ": max |kiln - torch| = " + diff + " is " + relative + " of max |torch| = " + scale);
    }

    /** A counter (num_batches_tracked): PyTorch's is an i64 scalar, and so is Kiln's. */
    static void assertCount(String what, StoredTensor expected, Parameter counter, Kiln kiln) {
        assertEquals(StoredTensor.Type.I64, expected.dtype(), what);
        assertEquals(expected.toLongs()[0], counter.value(kiln).toLongArray()[0], what);
    }
}
