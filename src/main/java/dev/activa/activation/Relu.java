package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** max(0, x); f'(0) = 0. */
public record Relu() implements Activation {
    public String name() { return "relu"; }

    public double value(double x, double[] p) { return x > 0 ? x : 0; }

    public double derivative(double x, double[] p) { return x > 0 ? 1 : 0; }

    public void forward(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            x.blend(0f, x.compare(VectorOperators.LE, 0f)).intoArray(b.out, b.outAt + i); // see VectorMath.clamp
        }
    }

    public void backward(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            var slope = x.broadcast(0f).blend(1f, x.compare(VectorOperators.GT, 0f));
            FloatVector.fromArray(SPECIES, b.dy, b.dyAt + i).mul(slope).intoArray(b.out, b.outAt + i);
        }
    }
}
