package dev.activa.jmh;

import java.util.SplittableRandom;

/** Benchmark inputs: uniform in [−scale, scale), from a seeded generator so runs see the same data. */
final class Data {
    private Data() {}

    static float[] random(SplittableRandom rng, int n) {
        return random(rng, n, 1);
    }

    static float[] random(SplittableRandom rng, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rng.nextDouble() * 2 - 1) * scale;
        return v;
    }
}
