package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Nami's FP32 forward has a one-loop path for vectors where every |w·x| ≤ π/2 (no sine range
 * reduction) and the two-pass path for the others. Both must give the same bits where both apply,
 * the right values everywhere, and the same in place (y written over x).
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

    @Test
    void oneLoopAndTwoPassAgreeBitForBitAndWithDoublePrecision() {
        SplittableRandom rng = new SplittableRandom(7);
        for (float[] p : new float[][] {params(0.3, 1.0, 1.5), params(0.5, 2.5, 0.7), params(0.1, 0.5, 3.0)}) {
            double halfPiOverW = Math.PI / 2 / p[0];
            float[] x = new float[2 * ROW]; // a first row all near, then the same values with far lanes
            for (int i = 0; i < ROW; i++) x[i] = (float) ((rng.nextDouble() * 2 - 1) * Math.min(halfPiOverW, 6));
            x[3] = (float) -halfPiOverW; // the edge of the one-loop path
            x[4] = 0f;
            System.arraycopy(x, 0, x, ROW, ROW);
            for (int lane : FAR_LANES) x[ROW + lane] = -20f - 0.01f * lane; // |w·x| ≥ 2: beyond π/2 at every w
            float[] y = forward(p, x, false);

            double[] pd = {p[0], p[1], p[2]};
            for (int i = 0; i < x.length; i++) {
                double want = nami.value(x[i], pd);
                assertTrue(Math.abs(y[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)),
                        "at x = " + x[i] + ": " + y[i] + ", expected " + want);
            }
            for (int i = 0; i < ROW; i++) {
                int lane = i;
                if (Arrays.stream(FAR_LANES).noneMatch(f -> f == lane))
                    assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(y[ROW + i]),
                            "one loop and two passes differ at x = " + x[i]);
            }
            assertArrayEquals(y, forward(p, x.clone(), true), "in place");
        }
    }
}
