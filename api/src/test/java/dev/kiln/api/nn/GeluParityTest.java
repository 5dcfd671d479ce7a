package dev.kiln.api.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GELU (both forms) and erf against PyTorch 1.13: {@code resources/parity/gelu.safetensors}, written
 * by {@code gelu_fixtures.py} (PyTorch's definitions in float64 on float32 inputs over [-6, 6],
 * rounded once). Values and gradients (of {@code sum(w * f(x))}, through {@link GradientTape}) must
 * agree to float32 rounding, measured as {@code |kiln - torch| / max(1, |torch|)}: values within
 * 2e-7 (one op, computed in float64 and rounded once, as the fixture), gradients within 1e-6,
 * since each is six to ten float32 ops (the tanh form's derivative written in IR ops) that each
 * round.
 */
class GeluParityTest {
    static Kiln kiln;
    static SafeTensorsFile fixture;

    @BeforeAll static void open() throws Exception {
        kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
        fixture = SafeTensorsFile.read(Path.of(GeluParityTest.class.getResource("/parity/gelu.safetensors").toURI()));
    }

    @AfterAll static void close() { kiln.close(); }

    private static float[] f(String name) { return fixture.tensor(name, null).toFloats(); }

    /** The worst {@code |a - b| / max(1, |b|)}. */
    private static double worst(float[] got, float[] want) {
        double w = 0;
        for (int i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
        return w;
    }

    private void check(String name, UnaryOperator<Tensor> op) {
        float[] xs = f("x");
        Tensor x = kiln.tensor(xs, xs.length), w = kiln.tensor(f("w"), xs.length);
        Tensor y;
        List<Tensor> g;
        try (GradientTape tape = kiln.tape()) {
            y = op.apply(x);
            g = tape.gradient(y.mul(w).sum(), List.of(x));
        }
        double value = worst(y.toFloatArray(), f(name)), grad = worst(g.getFirst().toFloatArray(), f(name + "_grad"));
        System.out.printf("%s vs torch: value %.2e, gradient %.2e%n", name, value, grad);
        assertTrue(value <= 2e-7, name + " differs from torch by " + value);
        assertTrue(grad <= 1e-6, name + "'s gradient differs from torch by " + grad);
    }

    @Test void geluIsExactByDefaultAsInPyTorch() { check("gelu", x -> new GELU().forward(x)); }

    @Test void geluTanhIsPyTorchsApproximateTanh() { check("gelu_tanh", x -> new GELU(GELU.Approximate.TANH).forward(x)); }

    @Test void erfIsPyTorchsErf() { check("erf", Tensor::erf); }

    /** The fixture is not vacuous: the two forms differ by far more than the tolerance. */
    @Test void theTwoFormsDiffer() { assertTrue(worst(f("gelu"), f("gelu_tanh")) > 1e-4); }
}
