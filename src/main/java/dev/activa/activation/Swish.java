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

    /* Lanes: σ(x) = 1/(1 + e^−x); below x = −88.4, e^−x saturates at 2.4e38 and σ(x) is 0 to within 5e-39. */
    public void forward(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            x.div(VectorMath.exp(x.neg(), Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY).add(1f))
                    .intoArray(b.out, b.outAt + i);
        }
    }

    /** From {@link Tabulated}'s tables where they serve (faster), else, and beyond them, the lanes below. */
    public void backward(FloatBlock b, float[] p) {
        if (!Tabulated.backward(this, b, p, this::backwardLanes)) backwardLanes(b, p);
    }

    void backwardLanes(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            var s = x.broadcast(1f).div(VectorMath.exp(x.neg(), Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY).add(1f));
            var slope = s.mul(x.mul(s.neg().add(1f)).add(1f));
            FloatVector.fromArray(SPECIES, b.dy, b.dyAt + i).mul(slope).intoArray(b.out, b.outAt + i);
        }
    }
}
