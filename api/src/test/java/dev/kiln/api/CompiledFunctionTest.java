package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.loss.Loss;
import dev.kiln.api.nn.BatchNorm2d;
import dev.kiln.api.nn.Dropout;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Parameter;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.SGD;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link Kiln#compile}: the compiled function gives the eager result, follows training between calls, and refuses impure functions. */
class CompiledFunctionTest {
    static Kiln kiln;

    @BeforeAll static void open() { kiln = Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    @AfterAll static void close() { kiln.close(); }

    private static Tensor random(int... dims) {
        Random r = new Random(dims.length * 31L + dims[0]);
        int n = 1;
        for (int d : dims) n *= d;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return kiln.tensor(x, dims);
    }

    @Test void aModelsForwardCompiledGivesTheEagerOutputAndFollowsItsTraining() {
        Sequential model = Sequential.of(new Linear(4, 8), new ReLU(), new Linear(8, 3));
        CompiledFunction probs = kiln.compile(in -> List.of(model.forward(in.getFirst()).softmax(1)), model);
        Tensor x = random(5, 4);
        assertArrayEquals(model.forward(x).softmax(1).toFloatArray(), probs.apply1(x).toFloatArray(), 1e-6f);

        // An eager SGD step replaces the parameters' tensors; the compiled function reads the new ones.
        List<Parameter> params = model.parameters();
        try (GradientTape tape = kiln.tape()) {
            Tensor loss = Loss.crossEntropy().compute(model.forward(x), kiln.tensor(new int[] {0, 1, 2, 0, 1}, 5));
            new SGD(0.5).step(kiln, params, tape.gradient(loss, params.stream().map(p -> p.value(kiln)).toList()));
        }
        assertArrayEquals(model.forward(x).softmax(1).toFloatArray(), probs.apply1(x).toFloatArray(), 1e-6f);

        Tensor longer = random(9, 4);
        assertEquals(List.of(9, 3), List.of(probs.apply1(longer).shape().dim(0), probs.apply1(longer).shape().dim(1)), "a new batch size traces again");
    }

    @Test void severalOutputsAndCapturedConstants() {
        Tensor c = kiln.tensor(new float[] {1, 2, 3}, 3);
        CompiledFunction f = kiln.compile(in -> List.of(in.get(0).add(c), in.get(0).mul(in.get(1)).sum()));
        List<Tensor> out = f.apply(kiln.tensor(new float[] {1, 1, 1}, 3), kiln.tensor(new float[] {2, 3, 4}, 3));
        assertArrayEquals(new float[] {2, 3, 4}, out.get(0).toFloatArray());
        assertEquals(9, out.get(1).item(), 0);
    }

    @Test void impureFunctionsAreRefusedSayingWhatToDo() {
        BatchNorm2d bn = new BatchNorm2d(2);
        var e = assertThrows(IllegalArgumentException.class, () -> kiln.compile(in -> List.of(bn.forward(in.getFirst())), bn).apply(random(2, 2, 3, 3)));
        assertTrue(e.getMessage().contains("eval()"), e.getMessage());
        Dropout drop = new Dropout(0.5);
        var d = assertThrows(IllegalArgumentException.class, () -> kiln.compile(in -> List.of(drop.forward(in.getFirst()))).apply(random(4, 4)));
        assertTrue(d.getMessage().contains("random numbers"), d.getMessage());
        bn.eval();
        Tensor y = kiln.compile(in -> List.of(bn.forward(in.getFirst())), bn).apply1(random(2, 2, 3, 3));
        assertEquals(4, y.shape().rank(), "in evaluation mode batch norm is pure");
        var same = assertThrows(IllegalArgumentException.class, () -> kiln.compile(in -> List.of(kiln.scalar(1))).apply(random(2)));
        assertTrue(same.getMessage().contains("computed from the arguments"), same.getMessage());
    }
}
