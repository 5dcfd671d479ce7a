package dev.kiln.spi.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.spi.ir.Primitive.UnaryFn;
import java.math.BigDecimal;
import java.math.MathContext;
import org.junit.jupiter.api.Test;

/** {@link UnaryFn#erf}, the definition every plugin's erf is checked against, against 60-digit arithmetic. */
class ErfTest {
    private static final MathContext MC = new MathContext(60);

    /** The Maclaurin series in BigDecimal: its cancellation costs at most ~16 of the 60 digits for |x| <= 7. */
    private static double exact(double x) {
        BigDecimal bx = new BigDecimal(x), x2 = bx.multiply(bx, MC), term = bx, sum = bx;
        for (int n = 1; n < 400; n++) {
            term = term.multiply(x2, MC).negate().divide(BigDecimal.valueOf(n), MC);
            sum = sum.add(term.divide(BigDecimal.valueOf(2L * n + 1), MC), MC);
        }
        BigDecimal sqrtPi = new BigDecimal("1.77245385090551602729816748334114518279754945612238712821380779");
        return sum.multiply(BigDecimal.valueOf(2), MC).divide(sqrtPi, MC).doubleValue();
    }

    @Test void agreesWithSixtyDigitArithmeticToAFewUlps() {
        double worst = 0, worstAt = 0;
        for (int i = -700; i <= 700; i++) {
            double x = i * 0.01 + 0.003;
            double err = Math.abs(UnaryFn.erf(x) - exact(x));
            if (err > worst) { worst = err; worstAt = x; }
        }
        assertTrue(worst < 1e-15, "max |erf - exact| = " + worst + " at x = " + worstAt);
    }

    @Test void smallArgumentsKeepTheirRelativeAccuracy() {
        for (double x : new double[] {1e-300, 1e-12, -3e-7, 1e-3, 0.4}) {
            double want = exact(x);
            assertEquals(want, UnaryFn.erf(x), Math.abs(want) * 1e-15, "erf(" + x + ")");
        }
    }

    @Test void limitsAndSpecialValues() {
        assertEquals(0.0, UnaryFn.erf(0.0));
        assertEquals(1.0, UnaryFn.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, UnaryFn.erf(Double.NEGATIVE_INFINITY));
        assertEquals(1.0, UnaryFn.erf(7.0));
        assertTrue(Double.isNaN(UnaryFn.erf(Double.NaN)));
        for (double x = 0.05; x < 6; x += 0.37) assertEquals(-UnaryFn.erf(x), UnaryFn.erf(-x), "odd at " + x);
    }
}
