package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The FP32 path an activation without lane code gets by default ({@link Tabulated}: tables of its
 * double definitions, by element where they do not serve) agrees with the shipped activations'
 * lane code in values, dx and parameter sums; the check that decides between the two ways takes
 * smooth functions and refuses a kink away from zero.
 */
class DefaultPathTest {
    private static final int N = 4 * FloatBlock.ROW + 3 * FloatBlock.LANES; // whole vectors: the kernels' unit

    private static FloatBlock block(float[] x, float[] dy, float[] out, int parameters) {
        FloatBlock b = new FloatBlock(parameters);
        b.x = x;
        b.dy = dy;
        b.out = out;
        b.n = x.length;
        return b;
    }

    private static float[] parameters(Activation act) {
        double[] initial = act.initialParameters();
        float[] p = new float[initial.length];
        for (int k = 0; k < p.length; k++) p[k] = (float) initial[k];
        return p;
    }

    /** x in [−6, 6], and in [−12, 12] at every 97th element (past the tables); dy in [−1, 1]. */
    private static float[][] inputs(SplittableRandom rng) {
        float[] x = new float[N], dy = new float[N];
        for (int i = 0; i < N; i++) {
            x[i] = (float) ((rng.nextDouble() * 2 - 1) * (i % 97 == 0 ? 12 : 6));
            dy[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return new float[][] {x, dy};
    }

    private interface Path {
        void forward(Activation act, FloatBlock b, float[] p);

        void backward(Activation act, FloatBlock b, float[] p);
    }

    private static final Path TABULATED = new Path() {
        public void forward(Activation act, FloatBlock b, float[] p) { Tabulated.forward(act, b, p); }

        public void backward(Activation act, FloatBlock b, float[] p) { Tabulated.backward(act, b, p); }
    };

    private static final Path BY_ELEMENT = new Path() {
        public void forward(Activation act, FloatBlock b, float[] p) { b.forwardByElement(act, p, 0, b.n); }

        public void backward(Activation act, FloatBlock b, float[] p) { b.backwardByElement(act, p, 0, b.n); }
    };

    private static void agreesWithLaneCode(Path path, String pathName) {
        SplittableRandom rng = new SplittableRandom(12);
        for (String name : Activation.NAMES) {
            Activation act = Activation.of(name);
            float[] p = parameters(act), lanes = new float[N], other = new float[N];
            float[][] in = inputs(rng);
            float[] x = in[0], dy = in[1];
            act.forward(block(x, null, lanes, p.length), p);
            path.forward(act, block(x, null, other, p.length), p);
            for (int i = 0; i < N; i++)
                assertTrue(Math.abs(lanes[i] - other[i]) <= 1e-6 * Math.max(1, Math.abs(lanes[i])),
                        name + " " + pathName + " at x = " + x[i] + ": " + other[i] + ", lanes " + lanes[i]);

            FloatBlock laneBlock = block(x, dy, lanes, p.length), otherBlock = block(x, dy, other, p.length);
            act.backward(laneBlock, p);
            path.backward(act, otherBlock, p);
            for (int i = 0; i < N; i++)
                assertTrue(Math.abs(lanes[i] - other[i]) <= 1e-6 * Math.max(1, Math.abs(lanes[i])),
                        name + " " + pathName + " dx at x = " + x[i] + ": " + other[i] + ", lanes " + lanes[i]);
            for (int k = 0; k < p.length; k++) {
                double want = laneBlock.parameterSums[k];
                assertTrue(want != 0, name + " parameter " + k + ": the sum should not vanish on these inputs");
                assertEquals(want, otherBlock.parameterSums[k], 1e-5 * Math.abs(want), name + " " + pathName + " parameter " + k);
            }
        }
    }

    @Test
    void byElementAgreesWithEveryActivationsLaneCode() {
        agreesWithLaneCode(BY_ELEMENT, "by element");
    }

    @Test
    void tablesServeEveryShippedActivationAndAgreeWithItsLaneCode() {
        assumeTrue(Tabulated.AVAILABLE, "the tables need vectors of 16 lanes or more; this CPU has " + FloatBlock.LANES);
        for (String name : Activation.NAMES) {
            Activation act = Activation.of(name);
            assertTrue(Tabulated.Tables.of(act, parameters(act)).usable(), name + ": its tables missed the check");
        }
        agreesWithLaneCode(TABULATED, "tabulated");
    }

    @Test
    void theCheckTakesSmoothSidesAndRefusesAKinkAwayFromZero() {
        assumeTrue(Tabulated.AVAILABLE, "the tables need vectors of 16 lanes or more; this CPU has " + FloatBlock.LANES);
        assertNotNull(Tabulated.checked(Math::tanh));
        assertNotNull(Tabulated.checked(x -> Math.max(0, x))); // a kink at zero: each side is fitted alone
        assertNull(Tabulated.checked(x -> Math.max(-1, Math.min(1, x)))); // hard tanh: kinks at ±1
        assertNull(Tabulated.checked(x -> Math.abs(x - 0.3))); // a kink between interpolation points
    }
}
