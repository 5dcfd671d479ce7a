package dev.kiln.examples;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.ArrayDataset;
import dev.kiln.api.data.CsvTable;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.loss.Loss;
import dev.kiln.api.nn.Linear;
import dev.kiln.api.nn.ReLU;
import dev.kiln.api.nn.Sequential;
import dev.kiln.api.optim.Adam;
import dev.kiln.api.train.Evaluation;
import dev.kiln.api.train.Metric;
import dev.kiln.api.train.ProgressBar;
import dev.kiln.api.train.Trainer;
import java.util.List;

/**
 * Regression on a real table: miles per gallon of 392 cars from their cylinders, displacement,
 * horsepower, weight, acceleration, model year and origin (the Auto MPG data shipped in the
 * repository; see {@code auto-mpg/README.md} beside the CSV). Features are standardised with the
 * training rows' means and deviations, origin is one-hot; an MLP (9, 64, ReLU, 64, ReLU, 1) trains
 * with MSE and Adam(1e-2) for 100 epochs (or {@code --epochs}), and the test set's RMSE and MAE
 * are in mpg. {@code --batch} and {@code --backend} apply too; {@code --hidden} and
 * {@code --precision} are not used.
 *
 * <pre>./mvnw -q -pl examples -am verify -DskipTests -Prun -Dkiln.main=dev.kiln.examples.AutoMpgRegression</pre>
 */
public final class AutoMpgRegression {
    static final List<String> NUMERIC = List.of("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year");

    private AutoMpgRegression() {}

    /** What one run measured on the held-out cars, in mpg. */
    record Result(double testRmse, double testMae, double targetStd, int trainSize, int testSize) {}

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args, 100);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return;
        }
        try (Kiln kiln = Kiln.open(KilnConfig.builder().backend(o.backend()).build())) {
            System.out.println("backend: " + kiln.backend() + ", batch " + o.batch() + ", epochs " + o.epochs());
            Result r = train(kiln, o.epochs(), o.batch(), true);
            System.out.printf("test RMSE %.2f mpg, MAE %.2f mpg (the test mpg's standard deviation is %.2f; %d training, %d test cars)%n",
                    r.testRmse(), r.testMae(), r.targetStd(), r.trainSize(), r.testSize());
        }
    }

    /** Trains on 80% of the cars (a fixed seeded split) and measures the other 20%. */
    static Result train(Kiln kiln, int epochs, int batch, boolean progress) {
        CsvTable table = CsvTable.read(AutoMpgRegression.class, "auto-mpg/auto-mpg.csv");
        ArrayDataset all = features(table);
        Dataset.Partition p = all.split(0.8, 42);
        ArrayDataset train = materialise(p.first()), test = materialise(p.second());
        Standardiser s = Standardiser.fit(train, NUMERIC.size());
        train = s.apply(train);
        test = s.apply(test);
        int in = train.exampleSize();
        Sequential model = Sequential.of(new Linear(in, 64), new ReLU(), new Linear(64, 64), new ReLU(), new Linear(64, 1));
        Trainer.Builder b = Trainer.builder(kiln, model).loss(Loss.mse()).optimizer(new Adam(1e-2)).batchSize(batch)
                .metrics(Metric.rootMeanSquaredError(), Metric.meanAbsoluteError());
        if (progress) b.callback(new ProgressBar());
        try (Trainer t = b.build()) {
            t.fit(train, epochs);
            Evaluation e = t.evaluate(test);
            if (progress) {
                // A few cars as the model sees them: predict runs the forward pass alone, in evaluation mode.
                float[] pred = t.predict(test).toFloatArray();
                for (int i = 0; i < 5; i++) {
                    System.out.printf("  car %d: predicted %.1f mpg, actual %.1f%n", i, pred[i], test.targets()[i]);
                }
            }
            return new Result(e.metric("rmse"), e.metric("mae"), std(test.targets()), train.size(), test.size());
        }
    }

    /** The six numeric columns, then origin one-hot (USA, Europe, Japan); the target is mpg. */
    static ArrayDataset features(CsvTable table) {
        float[][] numeric = table.floats(NUMERIC.toArray(String[]::new));
        float[][] origin = table.floats("origin");
        float[][] x = new float[table.size()][NUMERIC.size() + 3];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(numeric[i], 0, x[i], 0, NUMERIC.size());
            int o = (int) origin[i][0];
            if (o < 1 || o > 3 || o != origin[i][0]) throw new IllegalArgumentException("auto-mpg.csv row " + (i + 1) + ": origin " + origin[i][0] + " is not 1, 2 or 3");
            x[i][NUMERIC.size() + o - 1] = 1;
        }
        return ArrayDataset.of(x, table.floats("mpg"));
    }

    /** A subset copied into arrays of its own, so standardising it leaves the whole table alone. */
    static ArrayDataset materialise(Dataset d) {
        float[] x = new float[Math.multiplyExact(d.size(), d.exampleSize())], y = new float[Math.multiplyExact(d.size(), d.targetSize())];
        for (int i = 0; i < d.size(); i++) {
            d.features(i, x, i * d.exampleSize());
            d.target(i, y, i * d.targetSize());
        }
        return new ArrayDataset(x, d.exampleShape(), y, d.targetShape());
    }

    /** Per-column mean and standard deviation of the first {@code columns} features of the training rows. */
    record Standardiser(float[] mean, float[] std) {
        static Standardiser fit(ArrayDataset train, int columns) {
            int w = train.exampleSize(), n = train.size();
            float[] mean = new float[columns], std = new float[columns];
            for (int c = 0; c < columns; c++) {
                double sum = 0, sq = 0;
                for (int i = 0; i < n; i++) sum += train.features()[i * w + c];
                double m = sum / n;
                for (int i = 0; i < n; i++) sq += Math.pow(train.features()[i * w + c] - m, 2);
                mean[c] = (float) m;
                // A constant column would divide by zero; it carries no information, so it becomes 0.
                std[c] = (float) Math.max(Math.sqrt(sq / n), 1e-6);
            }
            return new Standardiser(mean, std);
        }

        ArrayDataset apply(ArrayDataset d) {
            int w = d.exampleSize();
            float[] x = d.features().clone();
            for (int i = 0; i < d.size(); i++) for (int c = 0; c < mean.length; c++) x[i * w + c] = (x[i * w + c] - mean[c]) / std[c];
            return new ArrayDataset(x, d.exampleShape(), d.targets(), d.targetShape());
        }
    }

    static double std(float[] v) {
        double m = 0, s = 0;
        for (float f : v) m += f;
        m /= v.length;
        for (float f : v) s += (f - m) * (f - m);
        return Math.sqrt(s / v.length);
    }

}
