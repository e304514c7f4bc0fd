package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** x if x &gt; 0, else e^x − 1 (α = 1). */
public record Elu() implements Activation {
    public String name() { return "elu"; }

    public double value(double x, double[] p) { return x > 0 ? x : StrictMath.expm1(x); }

    public double derivative(double x, double[] p) { return x > 0 ? 1 : StrictMath.exp(x); }

    /* Lanes: e^x − 1 and e^x where x ≤ 0; the lanes with x > 0 are blended away, whatever they hold. */
    public void forward(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            VectorMath.expm1NonPositive(x).blend(x, x.compare(VectorOperators.GT, 0f))
                    .intoArray(b.out, b.outAt + i);
        }
    }

    public void backward(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            var slope = VectorMath.expNonPositive(x).blend(1f, x.compare(VectorOperators.GT, 0f));
            FloatVector.fromArray(SPECIES, b.dy, b.dyAt + i).mul(slope).intoArray(b.out, b.outAt + i);
        }
    }
}
