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
}
