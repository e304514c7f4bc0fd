package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** x if x &gt; 0, else e^x − 1 (α = 1). */
public record Elu() implements Activation {
    public String name() { return "elu"; }

    public double value(double x, double[] p) { return x > 0 ? x : Math.expm1(x); }

    public double derivative(double x, double[] p) { return x > 0 ? 1 : Math.exp(x); }

    /* Lanes: e^min(x, 0) − 1 and e^min(x, 0) from the exp passes (the min keeps the other branch from overflowing). */
    public void forward(FloatBlock b, float[] p) {
        VectorMath.expm1(b.x, b.xAt, 1f, Float.NEGATIVE_INFINITY, 0f, b.row1, b.n);
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            FloatVector.fromArray(SPECIES, b.row1, i).blend(x, x.compare(VectorOperators.GT, 0f)).intoArray(b.out, b.outAt + i);
        }
    }

    public void backward(FloatBlock b, float[] p) {
        VectorMath.exp(b.x, b.xAt, 1f, Float.NEGATIVE_INFINITY, 0f, b.row1, b.n);
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            var slope = FloatVector.fromArray(SPECIES, b.row1, i).blend(1f, x.compare(VectorOperators.GT, 0f));
            FloatVector.fromArray(SPECIES, b.dy, b.dyAt + i).mul(slope).intoArray(b.out, b.outAt + i);
        }
    }
}
