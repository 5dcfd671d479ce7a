package dev.kiln.api.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rectangular convolutions, transposed convolutions, LayerNorm without affine parameters and
 * pooling's ceil mode and {@code count_include_pad=False}
 * against PyTorch 1.13 ({@code resources/parity/layers.safetensors}, from {@code layer_fixtures.py}):
 * the output and the gradients of {@code sum(w * y)} with respect to the input and to every
 * parameter, on the reference backend, with PyTorch's weights loaded. Float32 rounding of sums of
 * at most a few dozen products: {@code max |kiln - torch| <= 1e-6 * max(1, max |torch|)}.
 */
class LayerParityTest {
    static Kiln kiln;
    static SafeTensorsFile fixture;

    @BeforeAll static void open() throws Exception {
        kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
        fixture = SafeTensorsFile.read(Path.of(LayerParityTest.class.getResource("/parity/layers.safetensors").toURI()));
    }

    @AfterAll static void close() { kiln.close(); }

    private static float[] f(String name) { return fixture.tensor(name, null).toFloats(); }

    private static Tensor tensor(String name) {
        StoredTensor s = fixture.tensor(name, null);
        return kiln.tensor(s.toFloats(), s.kilnShape().dims());
    }

    private static double gap(float[] got, float[] want) {
        assertEquals(want.length, got.length, "element count");
        double worst = 0, scale = 1;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        return worst / scale;
    }

    private void check(String name, Module layer) {
        Map<String, Parameter> params = layer.namedParameters();
        for (var p : params.entrySet()) p.getValue().set(kiln, f(name + "." + p.getKey()));
        Tensor x = tensor(name + ".x");
        List<Tensor> sources = new ArrayList<>(List.of(x));
        for (Parameter p : params.values()) sources.add(p.value(kiln));
        Tensor y;
        List<Tensor> g;
        try (GradientTape tape = kiln.tape()) {
            y = layer.forward(x);
            g = tape.gradient(y.mul(tensor(name + ".w")).sum(), sources);
        }
        assertEquals(fixture.tensor(name + ".y", null).kilnShape(), y.shape(), name + " output shape");
        List<String> names = new ArrayList<>(List.of("dx"));
        for (String p : params.keySet()) names.add("d" + p);
        double worst = gap(y.toFloatArray(), f(name + ".y"));
        assertTrue(worst <= 1e-6, name + ": output differs from torch by " + worst);
        for (int i = 0; i < names.size(); i++) {
            double d = gap(g.get(i).toFloatArray(), f(name + "." + names.get(i)));
            assertTrue(d <= 1e-6, name + ": " + names.get(i) + " differs from torch by " + d);
            worst = Math.max(worst, d);
        }
        System.out.printf("%s vs torch: worst %.2e%n", name, worst);
    }

    @Test void rectangularConvolution() {
        check("conv_rect", Conv2d.builder(2, 3).kernel(3, 2).stride(2, 1).padding(1, 0).dilation(1, 2).build());
    }

    @Test void transposedConvolutionWithOutputPadding() { check("conv_t", new ConvTranspose2d(3, 2, 3, 2, 1, 1)); }

    @Test void rectangularGroupedTransposedConvolutionWithoutBias() {
        check("conv_t_rect", ConvTranspose2d.builder(4, 2).kernel(3, 2).stride(2, 1).padding(1, 0).outputPadding(1, 0).groups(2).bias(false).build());
    }

    @Test void dilatedTransposedConvolution() {
        check("conv_t_dilated", ConvTranspose2d.builder(2, 3).kernel(2, 2).padding(1, 1).dilation(2, 2).build());
    }

    @Test void layerNormWithoutAffineParameters() {
        LayerNorm ln = new LayerNorm(1e-5, false, 5);
        assertTrue(ln.namedParameters().isEmpty());
        check("layernorm_plain", ln);
    }

    @Test void maxPoolingInCeilMode() {
        check("maxpool_ceil", new MaxPool2d(3, 2, 1, true));
        check("maxpool_ceil_even", new MaxPool2d(2, 2, 0, true));
    }

    @Test void averagePoolingInCeilModeAndWithoutCountingThePadding() {
        check("avgpool_ceil", new AvgPool2d(3, 2, 1, true, true));
        check("avgpool_nopad", new AvgPool2d(3, 2, 1, false, false));
        check("avgpool_ceil_nopad", new AvgPool2d(2, 2, 1, true, false));
    }

    @Test void badSettingsAreRefusedNamingTheLayer() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ConvTranspose2d(3, 2, 3, 2, 1, 2));
        assertTrue(e.getMessage().contains("output padding 2x2"), e.getMessage());
        var shape = assertThrows(IllegalArgumentException.class, () -> new ConvTranspose2d(3, 2, 3).forward(kiln.zeros(1, 4, 5, 5)));
        assertTrue(shape.getMessage().contains("[batch, 3, height, width]") && shape.getMessage().contains("[1, 4, 5, 5]"), shape.getMessage());
        assertThrows(IllegalStateException.class, () -> Conv2d.builder(1, 1).build());
        assertEquals("Conv2d(2 -> 3, 3x2, stride 2x1, padding 1x0, dilation 1x2)",
                Conv2d.builder(2, 3).kernel(3, 2).stride(2, 1).padding(1, 0).dilation(1, 2).build().toString());
    }
}
