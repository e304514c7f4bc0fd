package dev.activa.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** SiLU: x·σ(x), f' = σ(x)·(1 + x·(1 − σ(x))). */
public record Swish() implements Activation {
    public String name() { return "swish"; }

    static double sigmoid(double x) {
        // Both branches keep exp's argument non-positive, so nothing overflows.
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    static FloatVector sigmoid(FloatVector x) {
        var e = x.abs().neg().lanewise(VectorOperators.EXP); // e^-|x| in (0, 1]
        var onePlus = e.add(1f);
        var forPositive = onePlus.broadcast(1f).div(onePlus);
        var forNegative = e.div(onePlus);
        return forNegative.blend(forPositive, x.compare(VectorOperators.GE, 0f));
    }

    public double value(double x, double[] p) { return x * sigmoid(x); }

    public double derivative(double x, double[] p) {
        double s = sigmoid(x);
        return s * (1 + x * (1 - s));
    }

    public FloatVector value(FloatVector x, float[] p) { return x.mul(sigmoid(x)); }

    public FloatVector derivative(FloatVector x, float[] p) {
        var s = sigmoid(x);
        return s.mul(x.mul(s.neg().add(1f)).add(1f));
    }
}
