package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The transfer-learning example, one epoch per phase on oneDNN: it learns, and the frozen features carry over. */
class TransferLearningTest {
    @Test void frozenPretrainedConvolutionsLearnNewClassesFromASmallSample() {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")) || System.getenv("KILN_DATASETS") != null,
                "Fashion-MNIST is not installed: sudo apt-get install dataset-fashion-mnist (.ci/run does this)");
        TransferLearning.Result r = TransferLearning.run(Options.parse(new String[] {"--epochs", "1", "--batch", "64", "--backend", "onednn"}), 200);
        System.out.printf("source %.4f, transferred %.4f, from scratch %.4f%n", r.sourceAccuracy(), r.transferred(), r.scratch());
        assertTrue(r.sourceAccuracy() >= 0.80, "source task test accuracy " + r.sourceAccuracy());
        // Chance is 0.2 on five classes; one epoch over 1,000 images with frozen features is well above it.
        assertTrue(r.transferred() >= 0.70, "transferred test accuracy " + r.transferred());
    }
}
