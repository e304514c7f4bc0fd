package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** SiLU: x·σ(x), f' = σ(x)·(1 + x·(1 − σ(x))). */
public record Swish() implements Activation {
    public String name() { return "swish"; }

    static double sigmoid(double x) {
        // Both branches keep exp's argument non-positive, so nothing overflows.
        return x >= 0 ? 1 / (1 + StrictMath.exp(-x)) : StrictMath.exp(x) / (1 + StrictMath.exp(x));
    }

    public double value(double x, double[] p) { return x * sigmoid(x); }

    public double derivative(double x, double[] p) {
        double s = sigmoid(x);
        return s * (1 + x * (1 - s));
    }

    /*
     * Lanes: σ(x) = 1/(1 + e^−x), with x raised to −88 first. Below it swish and its slope are 0 to
     * within 1e-36 (x·σ(x) ≈ x·e^x), where x·σ(x) with a clamped exp was not (−1.2 at x = −3e38);
     * and e^88 is a float, so the exp's argument needs a floor only. A NaN x stays NaN in the
     * numerator.
     */
    private static final float FLOOR = -88f;

    /** 1 + e^−x, for x already raised to FLOOR: x·σ(x) = x/(1 + e^−x), σ(x) = 1/(1 + e^−x). */
    private static FloatVector onePlusExpMinus(FloatVector raised) {
        return VectorMath.expWithinRange(VectorMath.floorAtExpMin(raised.neg())).add(1f);
    }

    public void forward(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = VectorMath.atLeast(FloatVector.fromArray(SPECIES, b.x, b.xAt + i), FLOOR);
            x.div(onePlusExpMinus(x)).intoArray(b.out, b.outAt + i);
        }
    }

    /** From {@link Tabulated}'s tables where they serve (faster), else, and beyond them, the lanes below. */
    public void backward(FloatBlock b, float[] p) {
        if (!Tabulated.backward(this, b, p, this::backwardLanes, Tabulated.INSTEAD_OF_LANE_CODE)) backwardLanes(b, p);
    }

    void backwardLanes(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = VectorMath.atLeast(FloatVector.fromArray(SPECIES, b.x, b.xAt + i), FLOOR);
            var s = x.broadcast(1f).div(onePlusExpMinus(x));
            var slope = s.mul(x.mul(s.neg().add(1f)).add(1f));
            FloatVector.fromArray(SPECIES, b.dy, b.dyAt + i).mul(slope).intoArray(b.out, b.outAt + i);
        }
    }
}
