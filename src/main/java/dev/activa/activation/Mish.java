package dev.activa.activation;

import static dev.activa.activation.FloatBlock.LANES;
import static dev.activa.activation.FloatBlock.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** x·tanh(softplus(x)); f' = tanh(sp) + x·sech²(sp)·σ(x). */
public record Mish() implements Activation {
    public String name() { return "mish"; }

    /** log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|). */
    static double softplus(double x) { return Math.max(x, 0) + StrictMath.log1p(StrictMath.exp(-Math.abs(x))); }

    /*
     * The lanes use one exp and no log: with e = e^x and n = e·(e + 2),
     * tanh(softplus(x)) = ((1+e)² − 1)/((1+e)² + 1) = n/(n + 2), sech²(softplus(x)) = 4(n + 1)/(n + 2)²
     * and σ(x) = e/(1 + e), so f' = n/(n + 2) + 4x·e·(1 + e)/(n + 2)² (as n + 1 = (1 + e)²).
     * Past x = 20, tanh(softplus(x)) is 1 in float: e is capped there (so n cannot overflow) and
     * f' is 1.
     */
    private static final float SATURATION = 20f;

    /*
     * And x is raised to −87 first (above the exp's floor, so e needs no floor of its own): below
     * it mish and its slope are 0 to within 1e-35 (x·e^x), where a floored e times a huge x was not
     * (−3.5 at x = −3e38). A NaN x stays NaN.
     */
    private static final float FLOOR = -87f;

    /** e^x for x already raised to FLOOR, capped at e^SATURATION. */
    private static FloatVector expCapped(FloatVector raised) {
        return VectorMath.expWithinRange(raised.blend(SATURATION, raised.compare(VectorOperators.GT, SATURATION)));
    }

    public double value(double x, double[] p) { return x * StrictMath.tanh(softplus(x)); }

    public double derivative(double x, double[] p) {
        double sp = softplus(x);
        return StrictMath.tanh(sp) + x * Activation.sech2(sp) * Swish.sigmoid(x);
    }

    /** From {@link Tabulated}'s tables where they serve (faster), else, and beyond them, the lanes below. */
    public void forward(FloatBlock b, float[] p) {
        if (!Tabulated.forward(this, b, p, this::forwardLanes, Tabulated.INSTEAD_OF_LANE_CODE)) forwardLanes(b, p);
    }

    void forwardLanes(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = VectorMath.atLeast(FloatVector.fromArray(SPECIES, b.x, b.xAt + i), FLOOR);
            var e = expCapped(x);
            var n = e.add(2f).mul(e);
            n.div(n.add(2f)).mul(x).intoArray(b.out, b.outAt + i); // not x·n first: past 1.4e21 it overflows
        }
    }

    /** From {@link Tabulated}'s tables where they serve (faster), else, and beyond them, the lanes below. */
    public void backward(FloatBlock b, float[] p) {
        if (!Tabulated.backward(this, b, p, this::backwardLanes, Tabulated.INSTEAD_OF_LANE_CODE)) backwardLanes(b, p);
    }

    void backwardLanes(FloatBlock b, float[] p) {
        for (int i = 0; i < b.n; i += LANES) {
            var x = VectorMath.atLeast(FloatVector.fromArray(SPECIES, b.x, b.xAt + i), FLOOR);
            var e = expCapped(x);
            var n = e.add(2f).mul(e);
            var inverse = x.broadcast(1f).div(n.add(2f));
            var slope = x.mul(4f).mul(e).mul(e.add(1f)).mul(inverse).fma(inverse, n.mul(inverse));
            slope = slope.blend(1f, x.compare(VectorOperators.GT, SATURATION));
            FloatVector.fromArray(SPECIES, b.dy, b.dyAt + i).mul(slope).intoArray(b.out, b.outAt + i);
        }
    }
}
