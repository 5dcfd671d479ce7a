package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.CsvTable;
import org.junit.jupiter.api.Test;

/** The regression example on the real Auto MPG table, briefly, on oneDNN. */
class AutoMpgRegressionTest {
    @Test void theShippedTableIsTheCompleteRows() {
        CsvTable t = CsvTable.read(AutoMpgRegression.class, "auto-mpg/auto-mpg.csv");
        assertEquals(392, t.size());
        assertEquals("chevrolet chevelle malibu", t.cell(0, "name"));
        assertEquals(9, AutoMpgRegression.features(t).exampleSize(), "six numeric columns and origin one-hot");
    }

    @Test void aShortRunPredictsWellBelowTheSpreadOfTheTarget() {
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("onednn").build())) {
            AutoMpgRegression.Result r = AutoMpgRegression.train(kiln, 60, 32, false);
            System.out.printf("auto-mpg after 60 epochs: test RMSE %.3f, MAE %.3f, target std %.3f%n", r.testRmse(), r.testMae(), r.targetStd());
            assertEquals(314, r.trainSize());
            assertEquals(78, r.testSize());
            // Predicting the mean would score the standard deviation (6.8 mpg on these 78 test cars).
            assertTrue(r.testRmse() < 0.5 * r.targetStd(), "test RMSE " + r.testRmse() + " against the target's standard deviation " + r.targetStd());
            assertTrue(r.testMae() <= r.testRmse(), "MAE never exceeds RMSE");
        }
    }
}
