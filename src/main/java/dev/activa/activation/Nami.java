package dev.activa.activation;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * tanh(a·x) if x &gt; 0, else a·sin(w·x)/b, with three learnable scalars per layer
 * (w, a, b), clamped before use. See {@code shared/reference/ACTIVATIONS.md}.
 */
public record Nami() implements Activation {
    static final List<Parameter> PARAMETERS = List.of(
            new Parameter("w", 0.3, 0.1, 0.5),
            new Parameter("a", 1.0, 0.5, 3.0),
            new Parameter("b", 1.5, 0.5, 3.0));

    public String name() { return "nami"; }

    public List<Parameter> parameters() { return PARAMETERS; }

    public double value(double x, double[] p) {
        double w = p[0], a = p[1], b = p[2];
        return x > 0 ? Math.tanh(a * x) : a * Math.sin(w * x) / b;
    }

    public double derivative(double x, double[] p) {
        double w = p[0], a = p[1], b = p[2];
        if (x > 0) return a * Activation.sech2(a * x);
        return a * w * Math.cos(w * x) / b;
    }

    public void parameterPartials(double x, double[] p, double[] out) {
        double w = p[0], a = p[1], b = p[2];
        if (x > 0) {
            out[0] = 0;
            out[1] = x * Activation.sech2(a * x);
            out[2] = 0;
        } else {
            double s = Math.sin(w * x);
            out[0] = a * x * Math.cos(w * x) / b;
            out[1] = s / b;
            out[2] = -a * s / (b * b);
        }
    }

    public FloatVector value(FloatVector x, float[] p) {
        float w = p[0], a = p[1], b = p[2];
        var positive = x.mul(a).lanewise(VectorOperators.TANH);
        var negative = x.mul(w).lanewise(VectorOperators.SIN).mul(a / b);
        return negative.blend(positive, x.compare(VectorOperators.GT, 0f));
    }

    public FloatVector derivative(FloatVector x, float[] p) {
        float w = p[0], a = p[1], b = p[2];
        var t = x.mul(a).lanewise(VectorOperators.TANH);
        var positive = t.mul(t).neg().add(1f).mul(a);
        var negative = x.mul(w).lanewise(VectorOperators.COS).mul(a * w / b);
        return negative.blend(positive, x.compare(VectorOperators.GT, 0f));
    }

    public FloatVector[] parameterPartials(FloatVector x, float[] p) {
        float w = p[0], a = p[1], b = p[2];
        var isPositive = x.compare(VectorOperators.GT, 0f);
        var zero = x.broadcast(0f);
        var t = x.mul(a).lanewise(VectorOperators.TANH);
        var wx = x.mul(w);
        var s = wx.lanewise(VectorOperators.SIN);
        var dw = x.mul(wx.lanewise(VectorOperators.COS)).mul(a / b).blend(zero, isPositive);
        var da = s.mul(1f / b).blend(x.mul(t.mul(t).neg().add(1f)), isPositive);
        var db = s.mul(-a / (b * b)).blend(zero, isPositive);
        return new FloatVector[] {dw, da, db};
    }

    /**
     * {@link #derivative(FloatVector, float[])} and {@link #parameterPartials(FloatVector, float[])}
     * fused, the same arithmetic with tanh(a·x), sin(w·x) and cos(w·x) computed once per element.
     */
    @Override
    public double[] backwardWithPartials(float[] xs, float[] residual, float[] dy, float[] dx, int from, int to,
                                         float[] p) {
        var species = FloatVector.SPECIES_PREFERRED;
        float w = p[0], a = p[1], b = p[2];
        FloatVector sw = FloatVector.zero(species), sa = sw, sb = sw;
        for (int i = from; i < to; i += species.length()) {
            var m = species.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(species, xs, i, m);
            if (residual != null) x = x.add(FloatVector.fromArray(species, residual, i, m));
            FloatVector g = FloatVector.fromArray(species, dy, i, m);
            var isPositive = x.compare(VectorOperators.GT, 0f);
            var zero = x.broadcast(0f);
            var t = x.mul(a).lanewise(VectorOperators.TANH);
            var oneMinusT2 = t.mul(t).neg().add(1f);
            var wx = x.mul(w);
            var s = wx.lanewise(VectorOperators.SIN);
            var c = wx.lanewise(VectorOperators.COS);
            var derivative = c.mul(a * w / b).blend(oneMinusT2.mul(a), isPositive);
            g.mul(derivative).intoArray(dx, i, m);
            var dw = x.mul(c).mul(a / b).blend(zero, isPositive);
            var da = s.mul(1f / b).blend(x.mul(oneMinusT2), isPositive);
            var db = s.mul(-a / (b * b)).blend(zero, isPositive);
            // Masked-off lanes hold f(0)-style values: zero them via the gradient mask.
            FloatVector gm = g.blend(0f, m.not());
            sw = gm.fma(dw, sw);
            sa = gm.fma(da, sa);
            sb = gm.fma(db, sb);
        }
        return new double[] {Activation.sumLanes(sw), Activation.sumLanes(sa), Activation.sumLanes(sb)};
    }
}
