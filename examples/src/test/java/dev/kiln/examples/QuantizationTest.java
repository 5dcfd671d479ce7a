package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.FashionMnist;
import dev.kiln.api.nn.Conv2d;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Module;
import dev.kiln.api.nn.Quantization;
import dev.kiln.api.nn.QuantizedLinear;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Dynamic int8 quantization of trained Fashion-MNIST models on oneDNN: same answers, give or take half a point. */
class QuantizationTest {
    @BeforeEach void needsData() {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")) || System.getenv("KILN_DATASETS") != null,
                "Fashion-MNIST is not installed: sudo apt-get install dataset-fashion-mnist (.ci/run does this)");
    }

    @Test void seedMlpLosesLessThanHalfAPoint() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").build())) {
            Sequential mlp = FashionMnistMlp.mlp(new int[] {128});
            double fp32 = trainAndEvaluate(kiln, mlp, FashionMnist.train(), FashionMnist.test());
            Module q = Quantization.quantizeDynamic(mlp, kiln);
            List<Module> layers = q.children();
            assertTrue(layers.get(1) instanceof QuantizedLinear && layers.get(3) instanceof QuantizedLinear, "both Linear layers quantized: " + q);
            assertEquals(0, q.parameterCount(), "int8 layers have no trainable parameters");
            double int8 = evaluate(kiln, q, FashionMnist.test());
            System.out.printf("seed mlp: fp32 %.4f, int8 %.4f%n", fp32, int8);
            assertTrue(fp32 >= 0.80, "fp32 accuracy " + fp32);
            assertTrue(fp32 - int8 <= 0.005, "accuracy drop " + (fp32 - int8) + " (fp32 " + fp32 + ", int8 " + int8 + ")");
        }
    }

    /** The CNN's convolutions stay f32 (the same objects); its dense head becomes int8. */
    @Test void cnnDenseHeadIsQuantizedAndItsConvolutionsKept() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").build())) {
            Sequential cnn = FashionMnistCnn.cnn();
            Dataset train = FashionMnist.train(), test = FashionMnist.test();
            int[] few = new int[6000];
            for (int i = 0; i < few.length; i++) few[i] = i * 10;
            int[] testFew = new int[2000];
            for (int i = 0; i < testFew.length; i++) testFew[i] = i * 5;
            double fp32 = trainAndEvaluate(kiln, cnn, train.subset(few), test.subset(testFew));
            Module q = Quantization.quantizeDynamic(cnn, kiln);
            for (int i = 0; i < cnn.children().size(); i++) {
                Module before = cnn.children().get(i), after = q.children().get(i);
                if (before instanceof Linear) assertTrue(after instanceof QuantizedLinear, "layer " + i + ": " + after);
                else assertSame(before, after, "layer " + i + " is kept");
            }
            assertTrue(cnn.children().stream().anyMatch(m -> m instanceof Conv2d), "the CNN has convolutions: " + cnn);
            double int8 = evaluate(kiln, q, test.subset(testFew));
            System.out.printf("cnn (6000 images, one epoch): fp32 %.4f, int8 %.4f%n", fp32, int8);
            assertTrue(fp32 >= 0.70, "fp32 accuracy " + fp32);
            assertTrue(Math.abs(fp32 - int8) <= 0.01, "accuracy change " + (fp32 - int8) + " (fp32 " + fp32 + ", int8 " + int8 + ")");
        }
    }

    private static double trainAndEvaluate(Kiln kiln, Module model, Dataset train, Dataset test) {
        try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(32).build()) {
            t.fit(train, 1);
            model.eval();
            return t.evaluate(test).accuracy();
        }
    }

    private static double evaluate(Kiln kiln, Module model, Dataset test) {
        // The optimizer is never used: evaluate only runs the forward pass.
        try (Trainer t = Trainer.builder(kiln, model).optimizer(new Adam(1e-3)).batchSize(256).build()) {
            return t.evaluate(test).accuracy();
        }
    }
}
