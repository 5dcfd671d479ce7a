package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.ArrayDataset;
import dev.kiln.api.dist.ProcessGroup;
import dev.kiln.api.loss.Loss;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Two ranks in one JVM (threads, TCP ring): a regression's metrics are summed over the ranks, so both report the whole set's. */
class DataParallelMetricsTest {
    record Figures(EpochLogs last, Evaluation eval) {}

    private static Figures run(Kiln kiln) {
        try (Trainer t = Trainer.builder(kiln, Sequential.of(new Linear(3, 1))).loss(Loss.mse()).optimizer(new Adam(0.05)).batchSize(8)
                .metrics(Metric.rootMeanSquaredError(), Metric.meanSquaredError()).build()) {
            ArrayDataset train = SupervisedTrainerTest.linear(96, 1), test = SupervisedTrainerTest.linear(37, 2);
            EpochLogs last = t.fit(train, train, 3).last();
            return new Figures(last, t.evaluate(test));
        }
    }

    @Test void everyRankGetsTheWholeSetsMetrics() throws Exception {
        try (ProcessGroup g0 = ProcessGroup.of(0, 2, "127.0.0.1", 0)) {
            CompletableFuture<ProcessGroup> g1f = CompletableFuture.supplyAsync(() -> ProcessGroup.of(1, 2, "127.0.0.1", g0.masterPort()));
            CompletableFuture<Kiln> k1f = g1f.thenApplyAsync(g -> Kiln.open(KilnConfig.builder().backend("javaref").seed(5).processGroup(g).build()));
            try (Kiln k0 = Kiln.open(KilnConfig.builder().backend("javaref").seed(5).processGroup(g0).build());
                 ProcessGroup g1 = g1f.get(60, TimeUnit.SECONDS);
                 Kiln k1 = k1f.get(60, TimeUnit.SECONDS)) {
                CompletableFuture<Figures> other = CompletableFuture.supplyAsync(() -> run(k1));
                Figures f0 = run(k0), f1 = other.get(60, TimeUnit.SECONDS);
                assertEquals(37, f0.eval().samples(), "each of the 37 test examples once, over both ranks");
                assertEquals(f0.eval().metrics(), f1.eval().metrics());
                assertEquals(f0.last().metrics(), f1.last().metrics());
                assertEquals(f0.eval().loss(), f0.eval().metric("mse"), 1e-5, "the summed loss and the summed metric agree");
                assertEquals(f0.last().validationLoss(), f0.last().metric("val_mse"), 1e-5);
                assertEquals(Math.sqrt(f0.eval().metric("mse")), f0.eval().metric("rmse"), 1e-9);
            }
        }
    }
}
