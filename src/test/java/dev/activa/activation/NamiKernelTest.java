package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Nami's FP32 kernels skip the sine's range reduction where every |w·x| ≤ π/2: the forward pass
 * per vector (one loop, the two-pass version for vectors further out), the backward pass per row
 * (a sine pass without reduction, the full one for rows with a lane further out). Both ways must
 * give the same bits where both apply, the right values everywhere, and, forward, the same in
 * place (y written over x).
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
    void backwardWithAndWithoutReductionAgreeBitForBitAndWithDoublePrecision() {
        SplittableRandom rng = new SplittableRandom(8);
        for (float[] p : PARAMS) {
            float[] x = twoRows(p, rng), dy = new float[x.length], dx = new float[x.length];
            for (int i = 0; i < ROW; i++) dy[i] = dy[ROW + i] = (float) (rng.nextDouble() * 2 - 1);
            FloatBlock block = new FloatBlock(3);
            block.backward(nami, p, x, null, dy, dx, 0, x.length);
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
    void oneLoopAndTwoPassAgreeBitForBitAndWithDoublePrecision() {
        SplittableRandom rng = new SplittableRandom(7);
        for (float[] p : PARAMS) {
            float[] x = twoRows(p, rng);
            float[] y = forward(p, x, false);

            double[] pd = {p[0], p[1], p[2]};
            for (int i = 0; i < x.length; i++) {
                double want = nami.value(x[i], pd);
                assertTrue(Math.abs(y[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)),
                        "at x = " + x[i] + ": " + y[i] + ", expected " + want);
            }
            for (int i = 0; i < ROW; i++)
                if (!far(ROW + i))
                    assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(y[ROW + i]),
                            "one loop and two passes differ at x = " + x[i]);
            assertArrayEquals(y, forward(p, x.clone(), true), "in place");
        }
    }
}
