package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Nami's FP32 kernels. The tables (where vectors have 16 lanes or more) must give the right values
 * and parameter sums over their whole range, at its ends and near zero, and hand every vector with
 * a lane outside it (NaN and infinities included) to the lane path. The lane path skips the sine's
 * range reduction where every |w·x| ≤ π/2: the forward pass per vector (one loop, the two-pass
 * version for vectors further out), the backward pass per row (a sine pass without reduction, the
 * full one for rows with a lane further out); both ways must give the same bits where both apply.
 * Every path must give the same in place (y written over x).
 */
class NamiKernelTest {
    private static final int ROW = FloatBlock.ROW, LANES = FloatBlock.LANES;
    /** Lanes of the second row set far out: in three consecutive vectors, one alone, and the last. */
    private static final int[] FAR_LANES = {5, LANES + 4, 2 * LANES + 8, 12 * LANES + 3, ROW - 1};

    private final Nami nami = new Nami();

    private static float[] params(double w, double a, double b) {
        return new float[] {(float) w, (float) a, (float) b};
    }

    private float[] forward(float[] p, float[] x, boolean inPlace) {
        float[] y = inPlace ? x : new float[x.length];
        new FloatBlock(3).forward(nami, p, x, null, y, 0, x.length);
        return y;
    }

    /** A block over all of x (a multiple of LANES long), for calling one path directly. */
    private static FloatBlock block(float[] x, float[] dy, float[] out) {
        FloatBlock b = new FloatBlock(3);
        b.x = x;
        b.dy = dy;
        b.out = out;
        b.n = x.length;
        return b;
    }

    private float[] forwardLanes(float[] p, float[] x, boolean inPlace) {
        float[] y = inPlace ? x : new float[x.length];
        nami.forwardLanes(block(x, null, y), p);
        return y;
    }

    private static final float[][] PARAMS = {params(0.3, 1.0, 1.5), params(0.5, 2.5, 0.7), params(0.1, 0.5, 3.0)};

    /** Two rows: the first all within |w·x| ≤ π/2, the second the same values with FAR_LANES beyond. */
    private static float[] twoRows(float[] p, SplittableRandom rng) {
        double halfPiOverW = Math.PI / 2 / p[0];
        float[] x = new float[2 * ROW];
        for (int i = 0; i < ROW; i++) x[i] = (float) ((rng.nextDouble() * 2 - 1) * Math.min(halfPiOverW, 6));
        x[3] = (float) -halfPiOverW; // the edge of the reduction-free path
        x[4] = 0f;
        System.arraycopy(x, 0, x, ROW, ROW);
        for (int lane : FAR_LANES) x[ROW + lane] = -20f - 0.01f * lane; // |w·x| ≥ 2: beyond π/2 at every w
        return x;
    }

    private static boolean far(int i) {
        return i >= ROW && Arrays.stream(FAR_LANES).anyMatch(f -> f == i - ROW);
    }

    @Test
    void lanePathBackwardWithAndWithoutReductionAgreeBitForBitAndWithDoublePrecision() {
        SplittableRandom rng = new SplittableRandom(8);
        for (float[] p : PARAMS) {
            float[] x = twoRows(p, rng), dy = new float[x.length], dx = new float[x.length];
            for (int i = 0; i < ROW; i++) dy[i] = dy[ROW + i] = (float) (rng.nextDouble() * 2 - 1);
            FloatBlock block = block(x, dy, dx);
            nami.backwardLanes(block, p);
            double[] pd = {p[0], p[1], p[2]}, partial = new double[3], sums = new double[3];
            for (int i = 0; i < x.length; i++) {
                double want = dy[i] * nami.derivative(x[i], pd);
                assertTrue(Math.abs(dx[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)),
                        "dx at x = " + x[i] + ": " + dx[i] + ", expected " + want);
                nami.parameterPartials(x[i], pd, partial);
                for (int k = 0; k < 3; k++) sums[k] += dy[i] * partial[k];
                if (i < ROW && !far(ROW + i))
                    assertEquals(Float.floatToRawIntBits(dx[i]), Float.floatToRawIntBits(dx[ROW + i]),
                            "with and without reduction differ at x = " + x[i]);
            }
            for (int k = 0; k < 3; k++)
                assertEquals(sums[k], block.parameterSums[k], 1e-5 * Math.max(1, Math.abs(sums[k])), "parameter " + k);
        }
    }

    @Test
    void lanePathOneLoopAndTwoPassAgreeBitForBitAndWithDoublePrecision() {
        SplittableRandom rng = new SplittableRandom(7);
        for (float[] p : PARAMS) {
            float[] x = twoRows(p, rng);
            float[] y = forwardLanes(p, x, false);
            assertValues(p, x, y);
            for (int i = 0; i < ROW; i++)
                if (!far(ROW + i))
                    assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(y[ROW + i]),
                            "one loop and two passes differ at x = " + x[i]);
            assertArrayEquals(y, forwardLanes(p, x.clone(), true), "in place");
        }
    }

    /**
     * Two rows spanning the tables' range, with the points that test its mapping: ±0, tiny values
     * either side, both ends; in the second row some vectors also hold a lane outside the range,
     * infinite or NaN when {@code nonFinite} (which makes the parameter sums NaN).
     */
    private static float[] tableInputs(NamiTables t, SplittableRandom rng, boolean nonFinite) {
        float[] x = new float[2 * ROW];
        for (int i = 0; i < x.length; i++)
            x[i] = (float) (rng.nextDouble() * (t.positiveEnd() + t.negativeEnd()) - t.negativeEnd());
        float below = Math.nextDown(t.positiveEnd());
        // a vector within every table, then the ends below zero in vectors of their own: the slope table's,
        // which can lie beyond the forward table's (a > 3.75·w), the forward table's, and just beyond that
        float[] edges = {0f, -0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, Float.MIN_VALUE, -Float.MIN_VALUE, below, below / 2};
        System.arraycopy(edges, 0, x, 0, edges.length);
        for (int i = edges.length; i < LANES; i++) x[i] = below / i;
        x[2 * LANES] = -t.negativeEnd();
        x[2 * LANES + 1] = -t.negativeEnd() / 2;
        x[3 * LANES] = -t.valueNegativeEnd();
        x[4 * LANES] = -t.valueNegativeEnd() * 1.01f;
        float[] outside = nonFinite
                ? new float[] {t.positiveEnd(), Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}
                : new float[] {t.positiveEnd(), Math.nextDown(-t.negativeEnd()), 50f, -20f, -200f};
        for (int j = 0; j < outside.length; j++) x[ROW + j * 3 * LANES + j] = outside[j];
        return x;
    }

    /** y = Nami(x) within 1e-6 of the FP64 definition, relative (absolute below 1). */
    private void assertValues(float[] p, float[] x, float[] y) {
        double[] pd = {p[0], p[1], p[2]};
        for (int i = 0; i < x.length; i++) {
            double want = nami.value(x[i], pd);
            assertTrue(Math.abs(y[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)),
                    "at x = " + x[i] + ": " + y[i] + ", expected " + want);
        }
    }

    private static void assertClose(double got, double want, double tolerance, String what) {
        if (Double.isNaN(want)) assertTrue(Double.isNaN(got), what + ": " + got + ", expected NaN");
        else assertTrue(Math.abs(got - want) <= tolerance, what + ": " + got + ", expected " + want);
    }

    @Test
    void tablesMatchDoublePrecisionAndLeaveOtherVectorsToTheLanePath() {
        assumeTrue(PiecewiseTable.AVAILABLE, "the tables need vectors of 16 lanes or more; this CPU has " + LANES);
        SplittableRandom rng = new SplittableRandom(9);
        for (float[] p : PARAMS) for (boolean nonFinite : new boolean[] {false, true}) {
            float[] x = tableInputs(NamiTables.of(p), rng, nonFinite), dy = new float[x.length], dx = new float[x.length];
            for (int i = 0; i < x.length; i++) dy[i] = (float) (rng.nextDouble() * 2 - 1);
            float[] y = forward(p, x, false);
            FloatBlock block = new FloatBlock(3);
            block.backward(nami, p, x, null, dy, dx, 0, x.length);

            double[] pd = {p[0], p[1], p[2]}, partial = new double[3], sums = new double[3];
            for (int i = 0; i < x.length; i++) {
                double value = nami.value(x[i], pd), slope = dy[i] * nami.derivative(x[i], pd);
                // relative near zero, the table holding f(x)/x, down to the float spacing of subnormals
                assertClose(y[i], value, 1e-6 * Math.max(Math.abs(x[i]) < 1 ? 0 : 1, Math.abs(value))
                        + Math.ulp((float) value), "y at x = " + x[i]);
                assertClose(dx[i], slope, 1e-6 * Math.max(1, Math.abs(slope)), "dx at x = " + x[i]);
                nami.parameterPartials(x[i], pd, partial);
                for (int k = 0; k < 3; k++) sums[k] += dy[i] * partial[k];
            }
            for (int k = 0; k < 3; k++)
                assertClose(block.parameterSums[k], sums[k], 1e-5 * Math.max(1, Math.abs(sums[k])), "parameter " + k);
            // not with infinities: their vectors take the library's SIN, whose last bits differ between JIT tiers
            if (!nonFinite) assertArrayEquals(y, forward(p, x.clone(), true), "in place");
        }
    }

    @Test
    void aBlockMostlyBeyondTheTablesIsRightThroughout() {
        SplittableRandom rng = new SplittableRandom(10);
        float[] p = params(0.3, 3.0, 1.5); // tanh side up to x = 8/3
        float[] x = new float[3 * ROW + 5 * LANES];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextDouble() * 12 - 4); // most vectors reach past 8/3
        float[] y = forward(p, x, false);
        assertValues(p, x, y);
        assertArrayEquals(y, forward(p, x.clone(), true), "in place");
    }
}
