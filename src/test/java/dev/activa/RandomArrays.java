package dev.activa;

import java.util.Random;
import java.util.SplittableRandom;

/** Reproducible random inputs for tests: the same seed gives the same floats. */
public final class RandomArrays {
    private RandomArrays() {}

    /** n floats drawn from a normal distribution of mean 0 and standard deviation sigma. */
    public static float[] gaussian(int n, long seed, double sigma) {
        var random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (sigma * random.nextGaussian());
        return v;
    }

    /** n floats drawn uniformly from [−1, 1). */
    public static float[] uniform(int n, long seed) {
        var random = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextDouble(-1, 1);
        return v;
    }
}
