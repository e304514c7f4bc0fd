package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** x if x ≥ 0, else tanh(x). */
public record TanhRelu() implements Activation {
    public String name() { return "tanhrelu"; }

    public double value(double x, double[] p) { return x >= 0 ? x : StrictMath.tanh(x); }

    public double derivative(double x, double[] p) {
        return x >= 0 ? 1 : Activation.sech2(x);
    }

    /*
     * Lanes: with e = e^(2x) and u = e − 1, tanh(x) = u/(u + 2) and 1 − tanh²(x) = 4e/(1 + e)²
     * where x < 0, neither overflowing nor cancelling; the other lanes are blended away.
     */
    public void forward(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            var u = VectorMath.expm1NonPositive(x.mul(2f));
            u.div(u.add(2f)).blend(x, x.compare(VectorOperators.GE, 0f)).intoArray(b.out, b.outAt + i);
        }
    }

    /** From {@link Tabulated}'s tables where they serve (faster), else, and beyond them, the lanes below. */
    public void backward(FloatBlock b, float[] p) {
        if (!Tabulated.backward(this, b, p, this::backwardLanes, Tabulated.INSTEAD_OF_LANE_CODE)) backwardLanes(b, p);
    }

    void backwardLanes(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = FloatVector.fromArray(SPECIES, b.x, b.xAt + i);
            var e = VectorMath.expNonPositive(x.mul(2f));
            var onePlus = e.add(1f);
            var slope = e.mul(4f).div(onePlus.mul(onePlus)).blend(1f, x.compare(VectorOperators.GE, 0f));
            FloatVector.fromArray(SPECIES, b.dy, b.dyAt + i).mul(slope).intoArray(b.out, b.outAt + i);
        }
    }
}
