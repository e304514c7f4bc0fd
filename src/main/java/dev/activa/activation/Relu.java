package dev.activa.activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** max(0, x); f'(0) = 0. */
public record Relu() implements Activation {
    public String name() { return "relu"; }

    public double value(double x, double[] p) { return x > 0 ? x : 0; }

    public double derivative(double x, double[] p) { return x > 0 ? 1 : 0; }

    public FloatVector value(FloatVector x, float[] p) { return x.max(0f); }

    public FloatVector derivative(FloatVector x, float[] p) {
        return x.broadcast(0f).blend(1f, x.compare(VectorOperators.GT, 0f));
    }
}
