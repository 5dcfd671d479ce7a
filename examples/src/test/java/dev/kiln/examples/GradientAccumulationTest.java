package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One process: k batches of b accumulated into each step train like batches of k * b, to
 * float rounding (SGD, 1e-5 of the parameters' scale) and to Adam's amplification of it (1e-4).
 */
class GradientAccumulationTest {
    @TempDir Path dir;

    @Test void fourMicroBatchesOf32TrainLikeBatchesOf128() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")) || System.getenv("KILN_DATASETS") != null,
                "Fashion-MNIST missing: apt-get install dataset-fashion-mnist");
        for (String opt : new String[] {"sgd", "adam"}) {
            DataParallelRun.main(new String[] {"--out", dir.resolve(opt + "-acc").toString(), "--examples", "1280", "--batch", "32",
                    "--accumulation", "4", "--optimizer", opt});
            DataParallelRun.main(new String[] {"--out", dir.resolve(opt + "-big").toString(), "--examples", "1280", "--batch", "128", "--optimizer", opt});
            float[] acc = DataParallelTest.read(dir.resolve(opt + "-acc/rank-0.bin")), big = DataParallelTest.read(dir.resolve(opt + "-big/rank-0.bin"));
            double max = DataParallelTest.maxRelativeDifference(acc, big);
            System.out.printf("%s, 10 steps: 4 x 32 accumulated vs 128: max relative difference %.3g, relative norm %.3g%n",
                    opt, max, DataParallelTest.relativeNorm(acc, big));
            // Adam's first steps move each weight by about lr * sign(g): where g is rounding noise around zero the
            // sign can flip between two summation orders, a 2e-3 move. SGD shows the summation itself agrees to ~1e-7.
            double tolerance = opt.equals("sgd") ? 1e-5 : 1e-4;
            assertTrue(max <= tolerance, opt + ": max relative difference " + max);
        }
    }
}
