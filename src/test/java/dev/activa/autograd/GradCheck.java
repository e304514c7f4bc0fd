package dev.activa.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.activa.backend.Backend;
import dev.activa.backend.cpu.CpuBackend;
import dev.activa.tensor.DType;
import dev.activa.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Finite-difference gradient checks in FP64: the analytic gradient of L = Σ y·r (r random, fixed)
 * through the engine's autograd against central differences of L, for every element of every input.
 */
public final class GradCheck {
    public static final Backend CPU = new CpuBackend();

    private GradCheck() {}

    public static Tensor random(SplittableRandom rng, double scale, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (rng.nextDouble() * 2 - 1) * scale;
        return CPU.fromDoubles(v, DType.F64, shape).requiresGrad(true);
    }

    /** Checks every input that requires grad; returns the largest relative error seen. */
    public static double check(String what, Function<Tensor[], Tensor> f, Tensor... inputs) {
        return check(what, 1e-6, 1e-6, f, inputs);
    }

    public static double check(String what, double h, double tolerance, Function<Tensor[], Tensor> f, Tensor... inputs) {
        Tensor y = f.apply(inputs);
        SplittableRandom rng = new SplittableRandom(42);
        double[] r = new double[(int) y.numel()];
        for (int i = 0; i < r.length; i++) r[i] = rng.nextDouble() * 2 - 1;
        for (Tensor in : inputs) in.zeroGrad();
        y.backward(CPU.fromDoubles(r, DType.F64, y.shape()));

        double worst = 0;
        for (int t = 0; t < inputs.length; t++) {
            Tensor in = inputs[t];
            if (!in.requiresGrad()) continue;
            double[] analytic = in.grad() == null ? new double[(int) in.numel()] : in.grad().toDoubles();
            double[] values = in.toDoubles();
            for (int i = 0; i < values.length; i++) {
                double plus = objective(f, inputs, t, values, i, h, r);
                double minus = objective(f, inputs, t, values, i, -h, r);
                double numeric = (plus - minus) / (2 * h);
                double err = Math.abs(numeric - analytic[i]) / Math.max(1, Math.abs(numeric) + Math.abs(analytic[i]));
                worst = Math.max(worst, err);
                assertTrue(err < tolerance, what + ": input " + t + " element " + i + ": analytic " + analytic[i]
                        + " vs numeric " + numeric);
            }
        }
        return worst;
    }

    private static double objective(Function<Tensor[], Tensor> f, Tensor[] inputs, int which, double[] values, int i,
                                    double h, double[] r) {
        double[] moved = values.clone();
        moved[i] += h;
        Tensor[] args = inputs.clone();
        args[which] = CPU.fromDoubles(moved, DType.F64, inputs[which].shape());
        try (var _ = Autograd.noGrad()) {
            double[] y = f.apply(args).toDoubles();
            double sum = 0;
            for (int k = 0; k < y.length; k++) sum += y[k] * r[k];
            return sum;
        }
    }
}
