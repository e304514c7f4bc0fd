package dev.activa.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** x·tanh(softplus(x)); f' = tanh(sp) + x·sech²(sp)·σ(x). */
public record Mish() implements Activation {
    public String name() { return "mish"; }

    /** log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|). */
    static double softplus(double x) { return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); }

    static FloatVector softplus(FloatVector x) {
        return x.max(0f).add(x.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P));
    }

    public double value(double x, double[] p) { return x * Math.tanh(softplus(x)); }

    public double derivative(double x, double[] p) {
        double sp = softplus(x);
        return Math.tanh(sp) + x * Activation.sech2(sp) * Swish.sigmoid(x);
    }

    public FloatVector value(FloatVector x, float[] p) {
        return x.mul(softplus(x).lanewise(VectorOperators.TANH));
    }

    public FloatVector derivative(FloatVector x, float[] p) {
        var t = softplus(x).lanewise(VectorOperators.TANH);
        var sech2 = t.mul(t).neg().add(1f);
        return t.add(x.mul(sech2).mul(Swish.sigmoid(x)));
    }
}
