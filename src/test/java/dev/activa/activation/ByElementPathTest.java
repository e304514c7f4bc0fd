package dev.activa.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The FP32 path an activation without lane code gets by default (its double definitions per
 * element) agrees with the shipped activations' lane code: values, dx and parameter sums.
 */
class ByElementPathTest {

    private static FloatBlock block(float[] x, float[] dy, float[] out, int parameters) {
        FloatBlock b = new FloatBlock(parameters);
        b.x = x;
        b.dy = dy;
        b.out = out;
        b.n = x.length;
        return b;
    }

    @Test
    void agreesWithEveryActivationsLaneCode() {
        SplittableRandom rng = new SplittableRandom(12);
        int n = 4 * FloatBlock.ROW + 3 * FloatBlock.LANES; // whole vectors: the lane code's unit
        for (String name : Activation.NAMES) {
            Activation act = Activation.of(name);
            double[] initial = act.initialParameters();
            float[] p = new float[initial.length];
            for (int k = 0; k < p.length; k++) p[k] = (float) initial[k];
            float[] x = new float[n], dy = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) ((rng.nextDouble() * 2 - 1) * 6);
                dy[i] = (float) (rng.nextDouble() * 2 - 1);
            }
            float[] lanes = new float[n], byElement = new float[n];
            act.forward(block(x, null, lanes, p.length), p);
            block(x, null, byElement, p.length).forwardByElement(act, p);
            for (int i = 0; i < n; i++)
                assertTrue(Math.abs(lanes[i] - byElement[i]) <= 1e-6 * Math.max(1, Math.abs(byElement[i])),
                        name + " at x = " + x[i] + ": lanes " + lanes[i] + ", by element " + byElement[i]);

            FloatBlock laneBlock = block(x, dy, lanes, p.length), elementBlock = block(x, dy, byElement, p.length);
            act.backward(laneBlock, p);
            elementBlock.backwardByElement(act, p);
            for (int i = 0; i < n; i++)
                assertTrue(Math.abs(lanes[i] - byElement[i]) <= 1e-6 * Math.max(1, Math.abs(byElement[i])),
                        name + " dx at x = " + x[i] + ": lanes " + lanes[i] + ", by element " + byElement[i]);
            for (int k = 0; k < p.length; k++) {
                double want = elementBlock.parameterSums[k];
                assertTrue(want != 0, name + " parameter " + k + ": the sum should not vanish on these inputs");
                assertEquals(want, laneBlock.parameterSums[k], 1e-5 * Math.abs(want), name + " parameter " + k);
            }
        }
    }
}
