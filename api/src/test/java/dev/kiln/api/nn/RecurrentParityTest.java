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
 * {@link LSTM} and {@link GRU} against PyTorch 1.13 ({@code resources/parity/rnn.safetensors}, from
 * {@code rnn_fixtures.py}) with PyTorch's state dicts loaded: outputs, final states, and the
 * gradients of {@code sum(w * y) + sum(wh * h_n)} with respect to the input and every parameter,
 * on the reference backend. Float32 rounding through up to ten recurrent steps:
 * {@code max |kiln - torch| <= 2e-6 * max(1, max |torch|)}.
 */
class RecurrentParityTest {
    static Kiln kiln;
    static SafeTensorsFile fixture;

    @BeforeAll static void open() throws Exception {
        kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
        fixture = SafeTensorsFile.read(Path.of(RecurrentParityTest.class.getResource("/parity/rnn.safetensors").toURI()));
    }

    @AfterAll static void close() { kiln.close(); }

    private static float[] f(String name) { return fixture.tensor(name, null).toFloats(); }

    private static Tensor tensor(String name) {
        StoredTensor s = fixture.tensor(name, null);
        return kiln.tensor(s.toFloats(), s.kilnShape().dims());
    }

    private static double gap(String what, float[] got, float[] want) {
        assertEquals(want.length, got.length, what + ": element count");
        double worst = 0, scale = 1;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        return worst / scale;
    }

    private void check(String name, Recurrent layer, boolean withState) {
        Map<String, Parameter> params = layer.namedParameters();
        assertEquals(fixtureParameters(name), params.keySet().stream().toList(), "parameter names as PyTorch's state dict");
        for (var p : params.entrySet()) p.getValue().set(kiln, f(name + "." + p.getKey()));
        Tensor x = tensor(name + ".x");
        List<Tensor> sources = new ArrayList<>(List.of(x));
        for (Parameter p : params.values()) sources.add(p.value(kiln));
        Recurrent.Result r;
        List<Tensor> g;
        try (GradientTape tape = kiln.tape()) {
            r = !withState ? layer.forwardWithState(x)
                    : layer instanceof LSTM lstm ? lstm.forward(x, tensor(name + ".h0"), tensor(name + ".c0"))
                    : ((GRU) layer).forward(x, tensor(name + ".h0"));
            Tensor objective = r.output().mul(tensor(name + ".w")).sum().add(r.hidden().mul(tensor(name + ".wh")).sum());
            g = tape.gradient(objective, sources);
        }
        double worst = Math.max(gap("y", r.output().toFloatArray(), f(name + ".y")), gap("hn", r.hidden().toFloatArray(), f(name + ".hn")));
        if (r.cell() != null) worst = Math.max(worst, gap("cn", r.cell().toFloatArray(), f(name + ".cn")));
        assertTrue(worst <= 2e-6, name + ": outputs differ from torch by " + worst);
        List<String> names = new ArrayList<>(List.of("dx"));
        for (String p : params.keySet()) names.add("d" + p);
        for (int i = 0; i < names.size(); i++) {
            double d = gap(names.get(i), g.get(i).toFloatArray(), f(name + "." + names.get(i)));
            assertTrue(d <= 2e-6, name + ": " + names.get(i) + " differs from torch by " + d);
            worst = Math.max(worst, d);
        }
        System.out.printf("%s vs torch: worst %.2e%n", name, worst);
    }

    /** PyTorch's {@code named_parameters()} order, each present in the fixture's state dict. */
    private static List<String> fixtureParameters(String name) {
        List<String> out = new ArrayList<>();
        for (int k = 0; fixture.tensors().containsKey(name + ".weight_ih_l" + k); k++) {
            for (String p : List.of("weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l")) out.add(p + k);
        }
        return out;
    }

    @Test void twoLayerBatchFirstLstm() { check("lstm", new LSTM(3, 4, 2, true), false); }

    @Test void lstmFromAGivenState() { check("lstm_state", new LSTM(3, 4), true); }

    @Test void twoLayerBatchFirstGru() { check("gru", new GRU(3, 4, 2, true), false); }

    @Test void gruFromAGivenState() { check("gru_state", new GRU(2, 3), true); }

    @Test void badInputsNameTheLayerAndShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> new LSTM(3, 4).forward(kiln.zeros(5, 2, 4)));
        assertTrue(e.getMessage().contains("LSTM(3 -> 4)") && e.getMessage().contains("[seq, batch, 3]") && e.getMessage().contains("[5, 2, 4]"), e.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> new GRU(3, 4).forward(kiln.zeros(5, 2, 3), kiln.zeros(2, 2, 4)));
        assertTrue(s.getMessage().contains("initial hidden state must be [1, 2, 4]"), s.getMessage());
    }
}
