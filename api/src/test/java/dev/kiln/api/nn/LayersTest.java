package dev.kiln.api.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.GradientTape;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.Tensor;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.optim.SGD;
import dev.kiln.api.train.Trainer;
import dev.kiln.core.DType;
import dev.kiln.core.Shape;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The layers of issue 4 on the pure-Java test plugin: values by hand, shape errors, buffers, summaries. */
class LayersTest {
    private Kiln kiln;

    @BeforeEach void open() { kiln = Kiln.open(KilnConfig.builder().backend("javaref").build()); }

    @AfterEach void close() { kiln.close(); }

    private Tensor range(int n, int... shape) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i + 1;
        return kiln.tensor(v, shape);
    }

    @Test void conv2dComputesACrossCorrelationPlusBias() {
        Conv2d conv = new Conv2d(1, 1, 2);
        conv.weight().set(kiln, new float[] {1, 0, 0, 1});
        conv.bias().set(kiln, new float[] {0.5f});
        float[] y = conv.forward(range(9, 1, 1, 3, 3)).toFloatArray();
        assertArrayEquals(new float[] {6.5f, 8.5f, 12.5f, 14.5f}, y, 1e-6f);
    }

    @Test void conv2dInitialisesAsPyTorchAndNamesItselfInShapeErrors() {
        Conv2d conv = new Conv2d(3, 8, 3, 1, 1);
        float bound = (float) (1 / Math.sqrt(27));
        for (float w : conv.weight().value(kiln).toFloatArray()) assertTrue(Math.abs(w) <= bound, "weight " + w + " outside +-" + bound);
        Sequential model = Sequential.of(conv);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(kiln.zeros(2, 1, 5, 5)));
        assertTrue(e.getMessage().contains("Conv2d(3 -> 8") && e.getMessage().contains("at 0") && e.getMessage().contains("[2, 1, 5, 5]")
                && e.getMessage().contains("[batch, 3, height, width]"), e.getMessage());
    }

    @Test void compiledTrainingUpdatesConvolutionBiasesByTheirGradient() {
        Random r = new Random(5);
        int n = 8;
        float[] f = new float[n * 16];
        int[] labels = new int[n];
        for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
        for (int i = 0; i < n; i++) labels[i] = i % 2;
        Conv2d conv = new Conv2d(1, 2, 3, 1, 1);
        Sequential model = Sequential.of(new Reshape(1, 4, 4), conv, new ReLU(), new Flatten(), new Linear(32, 2));
        float[] before = conv.bias().value(kiln).toFloatArray();
        float[] grad;
        try (GradientTape tape = kiln.tape()) {
            Tensor loss = model.forward(kiln.tensor(f, n, 4, 4)).softmaxCrossEntropy(kiln.tensor(labels, n));
            grad = tape.gradient(loss, List.of(conv.bias().value(kiln))).getFirst().toFloatArray();
        }
        assertTrue(Math.abs(grad[0]) + Math.abs(grad[1]) > 1e-4, "a test whose bias gradient is zero proves nothing");
        double lr = 0.1;
        try (Trainer t = Trainer.builder(kiln, model).optimizer(new SGD(lr)).batchSize(n).build()) {
            t.fit(new InMemoryDataset(f, labels, Shape.of(4, 4), 2), 1);
        }
        float[] after = conv.bias().value(kiln).toFloatArray();
        for (int c = 0; c < 2; c++) assertEquals(before[c] - lr * grad[c], after[c], 1e-6, "bias " + c + " after one SGD step");
    }

    @Test void poolingTakesWindowMaximaAndMeans() {
        Tensor x = range(16, 1, 1, 4, 4);
        assertArrayEquals(new float[] {6, 8, 14, 16}, new MaxPool2d(2).forward(x).toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {3.5f, 5.5f, 11.5f, 13.5f}, new AvgPool2d(2).forward(x).toFloatArray(), 1e-6f);
        assertEquals(Shape.of(1, 1, 2, 2), new MaxPool2d(3, 2, 1).forward(x).shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2).forward(kiln.zeros(4, 4)));
        assertTrue(e.getMessage().contains("MaxPool2d(2)") && e.getMessage().contains("[4, 4]"), e.getMessage());
    }

    @Test void batchNormUsesBatchStatisticsAndUpdatesRunningOnesEagerly() {
        BatchNorm2d bn = new BatchNorm2d(1);
        float[] data = {1, 2, 3, 6};
        Tensor x = kiln.tensor(data, 2, 1, 1, 2);
        float[] y = bn.forward(x).toFloatArray();
        double mean = 3, var = (4 + 1 + 0 + 9) / 4.0;
        for (int i = 0; i < 4; i++) assertEquals((data[i] - mean) / Math.sqrt(var + 1e-5), y[i], 1e-5);
        assertEquals(0.1 * mean, bn.runningMean().value(kiln).item(), 1e-6);
        assertEquals(0.9 + 0.1 * var * 4 / 3, bn.runningVar().value(kiln).item(), 1e-6);
        bn.eval();
        float[] z = bn.forward(x).toFloatArray();
        assertEquals((1 - 0.3) / Math.sqrt(0.9 + 0.1 * var * 4 / 3 + 1e-5), z[0], 1e-5);
        assertEquals(List.of("running_mean", "running_var", "num_batches_tracked"), List.copyOf(bn.namedBuffers().keySet()));
        assertEquals(1, bn.numBatchesTracked().value(kiln).toLongArray()[0], "one training pass counted, the evaluation one not");
        assertEquals(2, bn.parameters().size());
    }

    @Test void compiledTrainingUpdatesBatchNormRunningStatistics() {
        Random r = new Random(3);
        int n = 24;
        float[] f = new float[n * 16];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            for (int j = 0; j < 16; j++) f[i * 16 + j] = (float) (r.nextGaussian() + 2 * labels[i] + 1);
        }
        BatchNorm2d bn = new BatchNorm2d(2);
        Sequential model = Sequential.of(new Reshape(1, 4, 4), new Conv2d(1, 2, 3, 1, 1), bn, new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(8, 2));
        try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-2)).batchSize(8).build()) {
            t.fit(new InMemoryDataset(f, labels, Shape.of(4, 4), 2), 2);
            float[] mean = bn.runningMean().value(kiln).toFloatArray();
            assertNotEquals(0f, mean[0]);
            assertNotEquals(1f, bn.runningVar().value(kiln).toFloatArray()[1]);
            assertEquals(2 * 3, bn.numBatchesTracked().value(kiln).toLongArray()[0], "2 epochs of 3 batches, counted in the compiled step");
            // Evaluation reads the running statistics and leaves them alone.
            t.evaluate(new InMemoryDataset(f, labels, Shape.of(4, 4), 2));
            assertArrayEquals(mean, bn.runningMean().value(kiln).toFloatArray());
            assertEquals(6, bn.numBatchesTracked().value(kiln).toLongArray()[0]);
        }
    }

    @Test void layerNormNormalisesTheLastAxes() {
        Tensor y = new LayerNorm(4).forward(kiln.tensor(new float[] {1, 2, 3, 4, 10, 10, 10, 14}, 2, 4));
        float[] v = y.toFloatArray();
        for (int row = 0; row < 2; row++) {
            double m = 0, q = 0;
            for (int j = 0; j < 4; j++) m += v[row * 4 + j] / 4.0;
            for (int j = 0; j < 4; j++) q += (v[row * 4 + j] - m) * (v[row * 4 + j] - m) / 4;
            assertEquals(0, m, 1e-5);
            assertEquals(1, q, 1e-3);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LayerNorm(5).forward(kiln.zeros(2, 4)));
        assertTrue(e.getMessage().contains("LayerNorm([5])") && e.getMessage().contains("[2, 4]"), e.getMessage());
    }

    @Test void embeddingLooksUpRowsAndRejectsFloatIndices() {
        Embedding emb = new Embedding(5, 3);
        Tensor rows = emb.forward(kiln.tensor(new int[] {4, 0, 4, 2}, 2, 2));
        assertEquals(Shape.of(2, 2, 3), rows.shape());
        float[] w = emb.weight().value(kiln).toFloatArray(), got = rows.toFloatArray();
        for (int j = 0; j < 3; j++) assertEquals(w[4 * 3 + j], got[j]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> emb.forward(kiln.zeros(2)));
        assertTrue(e.getMessage().contains("Embedding(5, 3)") && e.getMessage().contains("f32[2]"), e.getMessage());
    }

    @Test void causalAttentionDoesNotLookAhead() {
        MultiHeadAttention mha = new MultiHeadAttention(8, 2, true);
        float[] a = new float[2 * 5 * 8];
        Random r = new Random(1);
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        float[] b = a.clone();
        for (int i = 4 * 8; i < 5 * 8; i++) b[i] += 1; // change only the last position of the first sequence
        float[] ya = mha.forward(kiln.tensor(a, 2, 5, 8)).toFloatArray(), yb = mha.forward(kiln.tensor(b, 2, 5, 8)).toFloatArray();
        for (int i = 0; i < 4 * 8; i++) assertEquals(ya[i], yb[i], 1e-5, "position " + i / 8 + " saw the future");
        assertNotEquals(ya[4 * 8], yb[4 * 8]);
        MultiHeadAttention full = new MultiHeadAttention(8, 2, false);
        assertEquals(Shape.of(2, 5, 8), full.forward(kiln.tensor(a, 2, 5, 8)).shape());
        assertEquals(4 * (8 * 8 + 8), full.parameterCount());
    }

    @Test void attentionOverAnEmptySequenceIsEmpty() {
        // As PyTorch: [batch, 0, dim] in, [batch, 0, dim] out, causal or not.
        assertEquals(Shape.of(2, 0, 8), new MultiHeadAttention(8, 2, true).forward(kiln.zeros(2, 0, 8)).shape());
        assertEquals(Shape.of(2, 0, 8), new MultiHeadAttention(8, 2, false).forward(kiln.zeros(2, 0, 8)).shape());
    }

    @Test void residualAddsItsInputAndLinearTakesLeadingBatchAxes() {
        Linear lin = new Linear(3, 3);
        Residual res = new Residual(Sequential.of(lin, new GELU()));
        Tensor x = range(6, 1, 2, 3);
        float[] y = res.forward(x).toFloatArray(), inner = Sequential.of(lin, new GELU()).forward(x).toFloatArray(), xs = x.toFloatArray();
        for (int i = 0; i < 6; i++) assertEquals(xs[i] + inner[i], y[i], 1e-5);
        assertThrows(IllegalArgumentException.class, () -> new Residual(new Linear(3, 2)).forward(x));
    }

    @Test void summaryListsOutputShapesAndParameterCounts() {
        Sequential model = Sequential.of(new Reshape(1, 28, 28), new Conv2d(1, 32, 3, 1, 1), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(32 * 14 * 14, 10));
        String s = model.summary(kiln, 64, 28, 28);
        assertTrue(s.contains("[64, 32, 28, 28]") && s.contains("[64, 32, 14, 14]") && s.contains("[64, 6272]") && s.contains("[64, 10]"), s);
        assertTrue(s.contains("320") && s.contains("62,730"), s);
        String tokens = Sequential.of(new Embedding(10, 4), new LayerNorm(4)).summary(kiln, DType.I32, 2, 7);
        assertTrue(tokens.contains("[2, 7, 4]"), tokens);
    }
}
