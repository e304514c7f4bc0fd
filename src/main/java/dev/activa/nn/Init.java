package dev.activa.nn;

import java.util.SplittableRandom;

/** Weight initialisers, drawing from a caller's seeded generator so models are reproducible. */
public final class Init {
    private Init() {}

    /** Kaiming (He) normal for ReLU-like nets, fan-out mode as torchvision's ResNets use. */
    public static double[] kaimingNormal(SplittableRandom rng, int count, int fanOut) {
        double std = Math.sqrt(2.0 / fanOut);
        double[] v = new double[count];
        for (int i = 0; i < count; i++) v[i] = gaussian(rng) * std;
        return v;
    }

    /** U(−bound, bound), PyTorch's default for linear layers with bound = 1/sqrt(fan_in). */
    public static double[] uniform(SplittableRandom rng, int count, double bound) {
        double[] v = new double[count];
        for (int i = 0; i < count; i++) v[i] = (rng.nextDouble() * 2 - 1) * bound;
        return v;
    }

    static double gaussian(SplittableRandom rng) {
        // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
        double u = 1 - rng.nextDouble(), v = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
