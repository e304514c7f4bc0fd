package dev.activa.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** x if x &gt; 0, else e^x − 1 (α = 1). */
public record Elu() implements Activation {
    public String name() { return "elu"; }

    public double value(double x, double[] p) { return x > 0 ? x : Math.expm1(x); }

    public double derivative(double x, double[] p) { return x > 0 ? 1 : Math.exp(x); }

    public FloatVector value(FloatVector x, float[] p) {
        // min(x, 0) keeps EXPM1 away from overflow on lanes that take the other branch.
        var negative = x.min(0f).lanewise(VectorOperators.EXPM1);
        return negative.blend(x, x.compare(VectorOperators.GT, 0f));
    }

    public FloatVector derivative(FloatVector x, float[] p) {
        var negative = x.min(0f).lanewise(VectorOperators.EXP);
        return negative.blend(1f, x.compare(VectorOperators.GT, 0f));
    }
}
