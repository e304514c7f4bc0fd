package dev.activa.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** x if x ≥ 0, else tanh(x). */
public record TanhRelu() implements Activation {
    public String name() { return "tanhrelu"; }

    public double value(double x, double[] p) { return x >= 0 ? x : Math.tanh(x); }

    public double derivative(double x, double[] p) {
        return x >= 0 ? 1 : Activation.sech2(x);
    }

    public FloatVector value(FloatVector x, float[] p) {
        return x.lanewise(VectorOperators.TANH).blend(x, x.compare(VectorOperators.GE, 0f));
    }

    public FloatVector derivative(FloatVector x, float[] p) {
        var t = x.lanewise(VectorOperators.TANH);
        return t.mul(t).neg().add(1f).blend(1f, x.compare(VectorOperators.GE, 0f));
    }
}
