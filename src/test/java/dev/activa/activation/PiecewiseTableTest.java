package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The tables through the same lane functions the kernels use: every interval on both sides, its
 * ends, zero and the range's ends land on the right polynomial, and the polynomials are as close
 * to the functions as the class comment says.
 */
class PiecewiseTableTest {

    /** f evaluated through the table at each x (all within the range) by the kernels' row loop. */
    private static float[] lookUp(int[] table, double positiveEnd, double negativeEnd, float[] x) {
        float[] y = new float[x.length];
        int far = PiecewiseTable.apply(table, PiecewiseTable.positiveScale(positiveEnd),
                PiecewiseTable.negativeScale(negativeEnd), x, 0, null, 0, false, y, 0, x.length, new int[x.length / LANES]);
        assertEquals(0, far, "vectors beyond the table");
        return y;
    }

    /** f through a table in the signed layout at each x, by the kernels' row loop; NaN for vectors beyond it. */
    private static float[] lookUpSigned(int[] table, double end, float[] x) {
        float[] y = new float[x.length];
        int[] far = new int[x.length / LANES];
        int count = PiecewiseTable.applySigned(table, PiecewiseTable.signedScale(end), x, 0, false, y, 0, x.length, far);
        for (int f = 0; f < count; f++) java.util.Arrays.fill(y, far[f], far[f] + LANES, Float.NaN);
        return y;
    }

    /** Points over [−negativeEnd, positiveEnd), a multiple of LANES of them, with 0, −0 and both ends. */
    private static float[] points(double positiveEnd, double negativeEnd) {
        int n = 64 * 1024;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (-negativeEnd + (positiveEnd + negativeEnd) * i / n);
        x[1] = 0f;
        x[2] = -0f;
        x[3] = Math.nextUp(0f);
        x[4] = (float) -negativeEnd;
        x[5] = Math.nextDown((float) positiveEnd);
        return x;
    }

    private static double maxError(DoubleUnaryOperator f, float[] x, float[] y) {
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - f.applyAsDouble(x[i])));
        return worst;
    }

    @Test
    void tanhAndSineAndTheirSlopesWithinTwoTenMillionths() {
        assumeTrue(LANES >= 16, "tables are used with 16 lanes or more; this CPU has " + LANES);
        double positiveEnd = LANES / 2.0, negativeEnd = 1.5; // intervals 0.5 wide for tanh, 0.1 for the sine
        DoubleUnaryOperator tanhOrSine = x -> x > 0 ? Math.tanh(x) : Math.sin(x);
        DoubleUnaryOperator slope = x -> x > 0 ? 1 / (Math.cosh(x) * Math.cosh(x)) : Math.cos(x);
        float[] x = points(positiveEnd, negativeEnd);

        int[] values = PiecewiseTable.of(Math::tanh, positiveEnd, Math::sin, negativeEnd);
        double valueError = maxError(tanhOrSine, x, lookUp(values, positiveEnd, negativeEnd, x));
        int[] slopes = PiecewiseTable.of(s -> 1 / (Math.cosh(s) * Math.cosh(s)), positiveEnd, Math::cos, negativeEnd);
        double slopeError = maxError(slope, x, lookUp(slopes, positiveEnd, negativeEnd, x));
        assertTrue(valueError < 2e-7, "value error " + valueError);
        assertTrue(slopeError < 3e-7, "slope error " + slopeError);
    }

    @Test
    void aValueOverXKeepsItsRelativePrecisionNearZero() {
        assumeTrue(LANES >= 16, "tables are used with 16 lanes or more; this CPU has " + LANES);
        int[] overX = PiecewiseTable.of(PiecewiseTable.overX(Math::tanh, 1), 8, PiecewiseTable.overX(Math::sin, 1), 1.5);
        float[] x = new float[LANES];
        for (int i = 0; i < LANES; i++) x[i] = (float) ((i % 2 == 0 ? 1 : -1) * Math.pow(10, -3 - i));
        float[] ratio = lookUp(overX, 8, 1.5, x);
        for (int i = 0; i < LANES; i++) {
            double want = x[i] > 0 ? Math.tanh(x[i]) : Math.sin(x[i]);
            assertEquals(want, x[i] * ratio[i], 3e-7 * Math.abs(want), "at x = " + x[i]);
        }
    }

    @Test
    void eachSideUsesItsOwnPolynomialsUpToZero() {
        assumeTrue(LANES >= 16, "tables are used with 16 lanes or more; this CPU has " + LANES);
        // 1 on the positive side, −1 on the other: any lane on the wrong side shows at once
        int[] sides = PiecewiseTable.of(s -> 1, 3, s -> -1, 2);
        float[] x = points(3, 2);
        float[] y = lookUp(sides, 3, 2, x);
        for (int i = 0; i < x.length; i++) assertEquals(x[i] > 0 ? 1f : -1f, y[i], 1e-6, "at x = " + x[i]);
    }

    @Test
    void theSignedLayoutTakesTheSideOfTheSignBitDownToTheSmallestFloats() {
        // no skip: tabulated activations take the signed layout from 8 lanes up
        double end = 3, negativeEnd = PiecewiseTable.signedNegativeEnd(end);
        int[] sides = PiecewiseTable.signed(s -> 1, s -> -1, end);
        float[] x = points(end, negativeEnd);
        float[] tiny = {Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-30f, 1e-9f, -1e-9f, 3e-8f, -3e-8f, 1e-7f, -1e-7f};
        System.arraycopy(tiny, 0, x, 6, tiny.length);
        float[] y = lookUpSigned(sides, end, x);
        for (int i = 0; i < x.length; i++) {
            boolean signBit = Float.floatToRawIntBits(x[i]) < 0; // −0 among them
            assertEquals(signBit ? -1f : 1f, y[i], 1e-6, "at x = " + x[i]);
        }
        // the reach: the positive end and −negativeEnd within; −end, an interval further, beyond
        float[] ends = new float[2 * LANES];
        ends[0] = Math.nextDown((float) end);
        ends[1] = (float) -negativeEnd;
        ends[LANES] = (float) -end;
        float[] atEnds = lookUpSigned(sides, end, ends);
        assertEquals(1f, atEnds[0], 1e-6);
        assertEquals(-1f, atEnds[1], 1e-6);
        assertTrue(Float.isNaN(atEnds[LANES]), "x = −end lies beyond the signed layout's reach");
        assertTrue(Float.isNaN(PiecewiseTable.atSigned(sides, PiecewiseTable.signedScale(end), (float) -end)));
    }

    @Test
    void theSignedLayoutKeepsAValueOverXPreciseNearZeroOnEachSide() {
        // intervals 0.5 wide at any width (end = LANES / 2), as the activations' tables
        double end = LANES / 2.0;
        // slopes 1 and 0.25 at zero: a tiny x on the wrong side would be 4 times off
        int[] overX = PiecewiseTable.signed(PiecewiseTable.overX(Math::tanh, 1),
                PiecewiseTable.overX(s -> Math.sin(s / 4), 0.25), end);
        float[] x = new float[2 * LANES];
        for (int i = 0; i < x.length; i++) x[i] = (float) ((i % 2 == 0 ? 1 : -1) * Math.pow(10, -2 - i));
        x[x.length - 1] = -Float.MIN_VALUE;
        float[] ratio = lookUpSigned(overX, end, x);
        for (int i = 0; i < x.length; i++) {
            double want = x[i] > 0 ? Math.tanh(x[i]) : Math.sin(x[i] / 4.0);
            assertEquals(want, x[i] * (double) ratio[i], 3e-7 * Math.abs(want), "at x = " + x[i]);
            assertEquals(ratio[i], PiecewiseTable.atSigned(overX, PiecewiseTable.signedScale(end), x[i]), "at x = " + x[i]);
        }
    }
}
