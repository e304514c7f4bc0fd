package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every FP32 way through the activations agrees with their double definitions in values, dx and
 * parameter sums: each one's fast path, the tables ({@link Tabulated}) for every shipped
 * activation, and the lane code the tables replace where they serve; the tables' check takes
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

    /** One FP32 way through the activations, in both directions. */
    private interface Path {
        void forward(Activation act, FloatBlock b, float[] p);

        void backward(Activation act, FloatBlock b, float[] p);
    }

    /**
     * The path agrees with the double definitions per element ({@link FloatBlock#forwardByElement},
     * rounded once) for every activation it serves: values and dx within 1e-6, sums within 1e-5.
     */
    private static void agreesWithDoublePrecision(String pathName, Path path, List<String> names) {
        SplittableRandom rng = new SplittableRandom(12);
        for (String name : names) {
            Activation act = Activation.of(name);
            float[] p = parameters(act), want = new float[N], got = new float[N];
            float[][] in = inputs(rng);
            float[] x = in[0], dy = in[1];
            block(x, null, want, p.length).forwardByElement(act, p, 0, N);
            path.forward(act, block(x, null, got, p.length), p);
            for (int i = 0; i < N; i++)
                assertTrue(Math.abs(got[i] - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i])),
                        name + " " + pathName + " at x = " + x[i] + ": " + got[i] + ", expected " + want[i]);

            FloatBlock reference = block(x, dy, want, p.length), tested = block(x, dy, got, p.length);
            reference.backwardByElement(act, p, 0, N);
            path.backward(act, tested, p);
            for (int i = 0; i < N; i++)
                assertTrue(Math.abs(got[i] - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i])),
                        name + " " + pathName + " dx at x = " + x[i] + ": " + got[i] + ", expected " + want[i]);
            for (int k = 0; k < p.length; k++) {
                double sum = reference.parameterSums[k];
                assertTrue(sum != 0, name + " parameter " + k + ": the sum should not vanish on these inputs");
                assertEquals(sum, tested.parameterSums[k], 1e-5 * Math.abs(sum), name + " " + pathName + " parameter " + k);
            }
        }
    }

    @Test
    void everyActivationsFastPathAgreesWithItsDoubleDefinitions() {
        agreesWithDoublePrecision("fast path", new Path() {
            public void forward(Activation act, FloatBlock b, float[] p) { act.forward(b, p); }

            public void backward(Activation act, FloatBlock b, float[] p) { act.backward(b, p); }
        }, Activation.NAMES);
    }

    @Test
    void tablesServeEveryShippedActivationAndAgreeWithItsDoubleDefinitions() {
        assumeTrue(FloatBlock.LANES >= Tabulated.INSTEAD_OF_LANE_CODE, "the tables need vectors of "
                + Tabulated.INSTEAD_OF_LANE_CODE + " lanes or more; this CPU has " + FloatBlock.LANES);
        for (String name : Activation.NAMES) {
            Activation act = Activation.of(name);
            assertTrue(Tabulated.Tables.of(act, parameters(act)).usable(), name + ": its tables missed the check");
        }
        agreesWithDoublePrecision("tabulated", new Path() {
            public void forward(Activation act, FloatBlock b, float[] p) {
                assertTrue(Tabulated.forward(act, b, p, (block, q) -> block.forwardByElement(act, q, 0, block.n),
                        Tabulated.INSTEAD_OF_LANE_CODE));
            }

            public void backward(Activation act, FloatBlock b, float[] p) {
                assertTrue(Tabulated.backward(act, b, p, (block, q) -> block.backwardByElement(act, q, 0, block.n),
                        Tabulated.INSTEAD_OF_LANE_CODE));
            }
        }, Activation.NAMES);
    }

    /** The lane code the tables replace where they serve, which narrower CPUs still run. */
    @Test
    void theLaneCodeTheTablesReplaceStillAgrees() {
        agreesWithDoublePrecision("lanes", new Path() {
            public void forward(Activation act, FloatBlock b, float[] p) {
                if (act instanceof Mish mish) mish.forwardLanes(b, p);
                else act.forward(b, p);
            }

            public void backward(Activation act, FloatBlock b, float[] p) {
                switch (act) {
                    case Mish mish -> mish.backwardLanes(b, p);
                    case Swish swish -> swish.backwardLanes(b, p);
                    case TanhRelu tanhRelu -> tanhRelu.backwardLanes(b, p);
                    default -> act.backward(b, p);
                }
            }
        }, List.of("mish", "swish", "tanhrelu"));
    }

    @Test
    void theCheckTakesSmoothSidesAndRefusesAKinkAwayFromZero() {
        assumeTrue(FloatBlock.LANES >= Tabulated.INSTEAD_OF_DOUBLES, "the tables need vectors of "
                + Tabulated.INSTEAD_OF_DOUBLES + " lanes or more; this CPU has " + FloatBlock.LANES);
        assertNotNull(Tabulated.checked(Math::tanh));
        assertNotNull(Tabulated.checked(x -> Math.max(0, x))); // a kink at zero: each side is fitted alone
        assertNull(Tabulated.checked(x -> Math.max(-1, Math.min(1, x)))); // hard tanh: kinks at ±1
        assertNull(Tabulated.checked(x -> Math.abs(x - 0.3))); // a kink between interpolation points
    }
}
