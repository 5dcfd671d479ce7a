package dev.kiln.api.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.checkpoint.ModelWeights;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link MultiHeadAttention} with separate query, key and value and a key padding mask, against
 * PyTorch 1.13's {@code nn.MultiheadAttention} ({@code resources/parity/mha_masks.safetensors}, from
 * {@code mha_mask_fixtures.py}) with its state dict loaded: the output and the gradients of
 * {@code sum(w * y)} with respect to the inputs and every parameter, on the reference backend.
 * Float32 rounding through two projections and a softmax: {@code <= 1e-6 * max(1, max |torch|)}.
 */
class AttentionMaskParityTest {
    static Kiln kiln;
    static SafeTensorsFile fixture;
    static Path path;

    @BeforeAll static void open() throws Exception {
        kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
        path = Path.of(AttentionMaskParityTest.class.getResource("/parity/mha_masks.safetensors").toURI());
        fixture = SafeTensorsFile.read(path);
    }

    @AfterAll static void close() { kiln.close(); }

    private static Tensor t(String name) { return fixture.tensor(name, null).toTensor(kiln); }

    private static double gap(Tensor got, String name) {
        float[] want = fixture.tensor(name, null).toFloats(), g = got.toFloatArray();
        assertEquals(want.length, g.length, name);
        double worst = 0, scale = 1;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(g[i] - want[i]));
        return worst / scale;
    }

    private MultiHeadAttention loaded(boolean causal) {
        MultiHeadAttention mha = new MultiHeadAttention(8, 2, causal);
        ModelWeights.apply(mha, kiln, ModelWeights.rename(fixture.tensors(), k -> k.startsWith("state.") ? k.substring(6) : null), path);
        return mha;
    }

    private void check(String name, MultiHeadAttention mha, boolean self) {
        Tensor q = t(name + ".query"), k = self ? q : t(name + ".key"), v = self ? q : t(name + ".value"), mask = t(name + ".mask");
        List<Tensor> sources = new ArrayList<>(self ? List.of(q) : List.of(q, k, v));
        List<String> names = new ArrayList<>(self ? List.of("d_query") : List.of("d_query", "d_key", "d_value"));
        mha.namedParameters().forEach((p, param) -> {
            sources.add(param.value(kiln));
            names.add("d." + p);
        });
        Tensor y;
        List<Tensor> g;
        try (GradientTape tape = kiln.tape()) {
            y = self ? mha.forward(q, mask) : mha.forward(q, k, v, mask);
            g = tape.gradient(y.mul(t(name + ".w")).sum(), sources);
        }
        double worst = gap(y, name + ".y");
        assertTrue(worst <= 1e-6, name + ": output differs from torch by " + worst);
        for (int i = 0; i < names.size(); i++) {
            double d = gap(g.get(i), name + "." + names.get(i));
            assertTrue(d <= 1e-6, name + ": " + names.get(i) + " differs from torch by " + d);
            worst = Math.max(worst, d);
        }
        System.out.printf("%s vs torch: worst %.2e%n", name, worst);
    }

    @Test void crossAttentionWithSeparateKeyAndValueAndAPaddingMask() { check("cross", loaded(false), false); }

    @Test void causalSelfAttentionWithAPaddingMask() { check("self_causal", loaded(true), true); }

    @Test void withoutAMaskTheSeparateInputsGiveTheFusedSelfAttention() {
        MultiHeadAttention mha = loaded(true);
        Tensor x = t("self_causal.query");
        float[] fused = mha.forward(x).toFloatArray(), separate = mha.forward(x, x, x, null).toFloatArray();
        for (int i = 0; i < fused.length; i++) assertEquals(fused[i], separate[i], 1e-6, "element " + i);
    }

    @Test void aMaskOfTheWrongShapeOrTypeIsRefused() {
        MultiHeadAttention mha = loaded(false);
        Tensor q = t("cross.query"), k = t("cross.key");
        var e = assertThrows(IllegalArgumentException.class, () -> mha.forward(q, k, k, kiln.zeros(2, 4)));
        assertTrue(e.getMessage().contains("bool [2, 5]"), e.getMessage());
    }
}
